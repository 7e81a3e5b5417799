/* html_report.c — see html_report.h. Markdown to HTML through cmark-gfm; the
 * figures embedded as data: URIs. */
#include "html_report.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmark-gfm-core-extensions.h>
#include <cmark-gfm.h>

#include "fsutil.h"

/* The GitHub extensions the tables and notes need. */
static const char *const extension_names[] = {"table", "strikethrough", "autolink"};

/* The page around cmark's body: fixed text, nothing from the report in it. */
static const char page_head[] =
    "<!DOCTYPE html>\n"
    "<html lang=\"en\">\n"
    "<head>\n"
    "<meta charset=\"utf-8\">\n"
    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
    "<meta name=\"generator\" content=\"mlplab report-html (cmark-gfm)\">\n"
    "<title>mlplab report</title>\n"
    "<style>\n"
    "body { font-family: sans-serif; max-width: 62rem; margin: 2rem auto; padding: 0 1rem;\n"
    "       line-height: 1.45; color: #222; }\n"
    "h1 { border-bottom: 2px solid #ccc; } h2 { margin-top: 2.5rem; border-bottom: 1px solid #ddd; }\n"
    "table { border-collapse: collapse; margin: 1rem 0; font-size: 0.9rem;\n"
    "        display: block; max-width: 100%; overflow-x: auto; }\n"
    "th, td { border: 1px solid #ccc; padding: 0.25rem 0.5rem; }\n"
    "th { background: #f3f3f3; }\n"
    "img { max-width: 100%; height: auto; display: block; margin: 1rem 0; }\n"
    "</style>\n"
    "</head>\n"
    "<body>\n";
static const char page_tail[] = "</body>\n</html>\n";

/* RFC 4648 base64 of size bytes; NULL on out-of-memory. (A data: URI needs
 * it; none of the project's libraries offers one.) */
static char *base64(const unsigned char *bytes, size_t size)
{
    static const char digits[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char *text = malloc((size + 2) / 3 * 4 + 1), *out = text;
    if (text == NULL)
        return NULL;
    for (size_t i = 0; i < size; i += 3) {
        unsigned long group = (unsigned long)bytes[i] << 16;
        if (i + 1 < size)
            group |= (unsigned long)bytes[i + 1] << 8;
        if (i + 2 < size)
            group |= bytes[i + 2];
        *out++ = digits[(group >> 18) & 63];
        *out++ = digits[(group >> 12) & 63];
        *out++ = i + 1 < size ? digits[(group >> 6) & 63] : '=';
        *out++ = i + 2 < size ? digits[group & 63] : '=';
    }
    *out = '\0';
    return text;
}

/* The whole of a file; NULL with err set when it cannot be read. */
static unsigned char *read_all(const char *path, size_t *size, mlp_error *err)
{
    FILE *file = fopen(path, "rb");
    if (file == NULL) {
        mlp_error_set(err, MLP_ERR_DATA, "cannot read %s: %s", path, strerror(errno));
        return NULL;
    }
    char *bytes = NULL;
    int reason = fsutil_read_all(file, SIZE_MAX, &bytes, size);
    fclose(file);
    if (reason == ENOMEM)
        mlp_error_nomem(err, "report-html");
    else if (reason != 0)
        mlp_error_set(err, MLP_ERR_DATA, "cannot read %s", path);
    return (unsigned char *)bytes;
}

/* A link to a file of ours: no scheme, not absolute, ending in .png. */
static int is_local_png(const char *url)
{
    size_t length = strlen(url);
    return length > 4 && strcmp(url + length - 4, ".png") == 0 && strchr(url, ':') == NULL &&
           url[0] != '/' && strstr(url, "..") == NULL;
}

/* Points one image node at its file's bytes, as a data: URI. */
static int embed_image(cmark_node *image, const char *base_dir, mlp_error *err)
{
    const char *url = cmark_node_get_url(image);
    if (url == NULL || !is_local_png(url))
        return MLP_OK;
    char path[4096];
    if (snprintf(path, sizeof path, "%s/%s", base_dir, url) >= (int)sizeof path)
        return mlp_error_set(err, MLP_ERR_DATA, "path too long: %s/%s", base_dir, url);
    size_t size = 0;
    unsigned char *bytes = read_all(path, &size, err);
    if (bytes == NULL) {
        mlp_error_prefix(err, "the report shows figure %s", url);
        return err != NULL ? err->status : MLP_ERR_DATA;
    }
    char *encoded = base64(bytes, size);
    free(bytes);
    static const char prefix[] = "data:image/png;base64,";
    char *data_url = encoded != NULL ? malloc(sizeof prefix + strlen(encoded)) : NULL;
    if (data_url == NULL) {
        free(encoded);
        return mlp_error_nomem(err, "report-html");
    }
    memcpy(data_url, prefix, sizeof prefix);
    strcat(data_url, encoded);
    free(encoded);
    int ok = cmark_node_set_url(image, data_url);
    free(data_url);
    return ok ? MLP_OK : mlp_error_nomem(err, "report-html");
}

static int embed_images(cmark_node *document, const char *base_dir, mlp_error *err)
{
    cmark_iter *iter = cmark_iter_new(document);
    if (iter == NULL)
        return mlp_error_nomem(err, "report-html");
    int rc = MLP_OK;
    for (cmark_event_type event; rc == MLP_OK && (event = cmark_iter_next(iter)) != CMARK_EVENT_DONE;) {
        cmark_node *node = cmark_iter_get_node(iter);
        if (event == CMARK_EVENT_ENTER && cmark_node_get_type(node) == CMARK_NODE_IMAGE)
            rc = embed_image(node, base_dir, err);
    }
    cmark_iter_free(iter);
    return rc;
}

int html_report_render(const char *markdown, const char *base_dir, char **html, mlp_error *err)
{
    *html = NULL;
    /* Safe mode (the default): raw HTML and javascript: links are not passed
     * through; a data:image/png URI is. */
    const int options = CMARK_OPT_DEFAULT | CMARK_OPT_VALIDATE_UTF8;
    cmark_gfm_core_extensions_ensure_registered();
    cmark_parser *parser = cmark_parser_new(options);
    if (parser == NULL)
        return mlp_error_nomem(err, "report-html");
    for (size_t i = 0; i < sizeof extension_names / sizeof extension_names[0]; i++) {
        cmark_syntax_extension *extension = cmark_find_syntax_extension(extension_names[i]);
        if (extension == NULL || !cmark_parser_attach_syntax_extension(parser, extension)) {
            cmark_parser_free(parser);
            return mlp_error_set(err, MLP_ERR_RUN, "cmark-gfm has no '%s' extension",
                                 extension_names[i]);
        }
    }
    cmark_parser_feed(parser, markdown, strlen(markdown));
    cmark_node *document = cmark_parser_finish(parser);
    int rc = document != NULL ? embed_images(document, base_dir, err)
                              : mlp_error_nomem(err, "report-html");
    char *body = rc == MLP_OK
                     ? cmark_render_html(document, options, cmark_parser_get_syntax_extensions(parser))
                     : NULL;
    if (rc == MLP_OK && body == NULL)
        rc = mlp_error_nomem(err, "report-html");
    if (rc == MLP_OK) {
        size_t size = strlen(page_head) + strlen(body) + strlen(page_tail) + 1;
        *html = malloc(size);
        if (*html == NULL)
            rc = mlp_error_nomem(err, "report-html");
        else
            snprintf(*html, size, "%s%s%s", page_head, body, page_tail);
    }
    free(body);
    if (document != NULL)
        cmark_node_free(document);
    cmark_parser_free(parser);
    return rc;
}

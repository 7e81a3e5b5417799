/* provenance.c — see provenance.h. */
#include "provenance.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <gsl/gsl_version.h>
#include <hdf5.h>
#include <lua.h>
#include <yaml.h>
#include <zlib.h>

void provenance_libraries(char *text, size_t size)
{
    unsigned major = 0, minor = 0, release = 0;
    H5get_libversion(&major, &minor, &release);
    snprintf(text, size, "libyaml %s, HDF5 %u.%u.%u, %s, GSL %s, zlib %s",
             yaml_get_version_string(), major, minor, release, LUA_RELEASE, gsl_version,
             zlibVersion());
}

void provenance_host(char *text, size_t size)
{
    if (gethostname(text, size) != 0 || text[0] == '\0')
        snprintf(text, size, "unknown");
    text[size - 1] = '\0';
}

void provenance_now(char *text, size_t size)
{
    time_t now = time(NULL);
    struct tm utc;
    gmtime_r(&now, &utc);
    strftime(text, size, "%Y-%m-%dT%H:%M:%SZ", &utc);
}

const char *provenance_env(const char *name)
{
    const char *value = getenv(name);
    return value != NULL ? value : "";
}

#!/usr/bin/env bash
# report-html-test.sh REPORT.html SECTIONS — opens the report in real headless
# Chromium (Debian package chromium) and checks what a reader sees:
#   - the page loads and has SECTIONS study sections (<h2>) and a table each;
#   - every figure (<img>) has loaded: complete, with a natural size > 0, read
#     by a script in a page that holds the report in an iframe;
#   - a screenshot of the page is not blank (many pixels that are not white,
#     in more than a few colours: text, tables and figures), read through
#     gnuplot's PNG reader.
# Run as root in a container: Chromium then needs --no-sandbox. Every run gets
# a fresh profile; nothing is fetched from the network.
# Prints one line per check and "report-html: N passed, M failed".
set -uo pipefail

# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"
suite_usage 2 "RESULTS/REPORT.html SECTIONS" "$@"
report=$(absolute "$1")
sections=$2
suite_begin report-html

browser=$(command -v chromium || command -v chromium-browser || true)
check "chromium is installed (scripts/deps.sh installs it)" test -n "$browser"
if [ -z "$browser" ]; then
    suite_end
    exit 1
fi

# chromium_run ARGS...: headless, offline, a profile of its own, at most a minute.
chromium_run() {
    timeout 120 "$browser" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
        --disable-background-networking --disable-component-update --disable-sync \
        --disable-extensions --disable-dev-shm-usage --user-data-dir="$work/profile-$1" \
        --allow-file-access-from-files "${@:2}" 2>>"$work/chromium.log"
}

# The report in an iframe; once everything has loaded, a script writes what it
# found into the page, which --dump-dom prints.
cat >"$work/probe.html" <<PROBE
<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>probe</title></head>
<body>
<pre id="result">not loaded</pre>
<iframe id="report" src="file://$report" width="1200" height="900"></iframe>
<script>
window.addEventListener('load', function () {
  var doc = document.getElementById('report').contentDocument;
  var images = doc.images, loaded = 0, broken = [];
  for (var i = 0; i < images.length; i++) {
    var img = images[i];
    if (img.complete && img.naturalWidth > 0 && img.naturalHeight > 0) loaded++;
    else broken.push(img.alt || img.src.slice(0, 40));
  }
  document.getElementById('result').textContent =
    'images=' + images.length + ' loaded=' + loaded +
    ' sections=' + doc.querySelectorAll('h2').length +
    ' tables=' + doc.querySelectorAll('table').length +
    ' external=' + doc.querySelectorAll('img:not([src^="data:"]), script, link').length +
    ' broken=[' + broken.join(', ') + ']';
});
</script>
</body></html>
PROBE

chromium_run dom --virtual-time-budget=10000 --dump-dom "file://$work/probe.html" >"$work/dom.html"
result=$(sed -n 's/.*<pre id="result">\([^<]*\)<\/pre>.*/\1/p' "$work/dom.html")
echo "     chromium: $result"
field() { sed -n "s/.*$1=\([0-9]*\).*/\1/p" <<<"$result"; }
images=$(field images)
loaded=$(field loaded)
check "chromium opened the page and ran the probe" test -n "$images"
check "the page has figures (${images:-0})" test "${images:-0}" -gt 0
check "every figure loaded, with a natural size (${loaded:-0} of ${images:-0})" \
    test -n "$images" -a "${loaded:-x}" = "$images"
check "one section per study (${sections} expected, $(field sections) found)" \
    test "$(field sections)" = "$sections"
tables=$(field tables)
check "every section has its table (${tables:-0} tables)" test "${tables:-0}" -ge "$sections"
check "the page is self-contained (no external image, script or style sheet)" \
    test "$(field external)" = 0

chromium_run shot --window-size=1200,1600 --hide-scrollbars --screenshot="$work/shot.png" \
    "file://$report" >/dev/null
check "chromium wrote a screenshot PNG" \
    test "$(head -c 8 "$work/shot.png" 2>/dev/null | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a
# Pixels through gnuplot's PNG reader: x y red green blue alpha per line.
gnuplot -e "set table '$work/pixels.txt'; plot '$work/shot.png' binary filetype=png with rgbimage; unset table" \
    2>>"$work/gnuplot.log"
stats=$(awk '!/^#/ && NF >= 5 { n++; c = $3 " " $4 " " $5; if (c != "255 255 255") ink++;
             if (!(c in seen)) { seen[c] = 1; colours++ } }
             END { printf "%d %d %d", n, ink, colours }' "$work/pixels.txt" 2>/dev/null)
read -r pixels ink colours <<<"${stats:-0 0 0}"
echo "     screenshot: $pixels pixels, $ink not white, $colours colours"
check "the screenshot is not blank (over 1 % of pixels not white, over 16 colours)" \
    test "$pixels" -gt 0 -a "$((ink * 100))" -gt "$pixels" -a "$colours" -gt 16

suite_end

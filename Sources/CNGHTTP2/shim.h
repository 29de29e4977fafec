// libnghttp2's C API as Debian's libnghttp2-dev (1.52) installs it. Only PeriscopeHTTP2 imports
// this module; no nghttp2 type appears in PeriscopeHTTP2's public API.
#include <nghttp2/nghttp2.h>

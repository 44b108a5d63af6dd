// Keeps GnuTLS from initialising itself in the probe.
//
// libcurl brings GnuTLS along (through libldap), and GnuTLS initialises itself
// from a constructor the moment it is loaded: it loads the system's priority
// strings, seeds its random generator and sets up PKCS#11 through p11-kit.
// That is about 0.8 MB of the probe's resident memory (the budget is
// 20 MB in all) for a library the probe never calls: its TLS is OpenSSL's,
// and libldap, the one user of GnuTLS in the process, calls
// gnutls_global_init() itself before any LDAP over TLS (which the probe never
// makes either).
//
// GnuTLS's constructor first asks _gnutls_global_init_skip(), a weak symbol
// it exports (GNUTLS_3_4) and calls through its PLT so that a program can
// answer it; the `vantage` executable defines it and exports it
// (probe/cli/CMakeLists.txt: --export-dynamic-symbol), so the dynamic linker
// binds GnuTLS's call to this one. The environment variable
// GNUTLS_NO_IMPLICIT_INIT=1 does the same, but only when set before the
// process starts: libc resets `environ` to the original array at its own
// initialisation, after anything the executable could run.
// ops_cli_test.sh checks the binding with LD_DEBUG=bindings.
extern "C" int _gnutls_global_init_skip(void) { return 1; }

/* The version and commit compiled in (the Makefile passes MR_COMMIT). */
#ifndef MR_BASE_VERSION_H
#define MR_BASE_VERSION_H

#define MR_VERSION "0.1.0"
#ifndef MR_COMMIT
#define MR_COMMIT "unknown"
#endif

#endif

#ifndef CCRYPT_SHIM_H
#define CCRYPT_SHIM_H

/* libxcrypt (Debian: libcrypt-dev): crypt_rn() checks bcrypt ($2b$, $2y$, $2a$) hashes. */
#include <crypt.h>

#endif

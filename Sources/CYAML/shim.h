#ifndef CYAML_SHIM_H
#define CYAML_SHIM_H

/* libyaml (Debian: libyaml-dev): the YAML 1.1 event parser the configuration files are read with. */
#include <yaml.h>

#endif

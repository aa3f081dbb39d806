// CPU hints Swift has no spelling for; everything is inline in include/CHints.h.
#include "CHints.h"

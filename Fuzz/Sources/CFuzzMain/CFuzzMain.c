// Header-only (include/CFuzzMain.h); SwiftPM needs a source file in a C target.
#include "CFuzzMain.h"

/*
 * mod_bad_magic.c -- a test-only module whose record has the wrong magic
 * cookie: the loader must refuse it with a message naming the file.
 */
#include "herald.h"
#include "hr_module.h"

HR_MODULE(bad_magic) = {0xdeadbeefu, HR_API_MAJOR, HR_API_MINOR,
                        "mod_bad_magic", NULL, NULL, NULL, NULL};

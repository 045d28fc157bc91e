/*
 * mod_old_api.c -- a test-only module built for an older module API: the
 * loader must refuse it and say which API it was built for.
 */
#include "herald.h"
#include "hr_module.h"

HR_MODULE(old_api) = {HR_MODULE_MAGIC, HR_API_MAJOR - 1, 0, "mod_old_api",
                      NULL, NULL, NULL, NULL};

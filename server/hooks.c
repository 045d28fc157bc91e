/*
 * hooks.c -- the implementation of every hook declared in hr_module.h.
 *
 * Hooks are APR-util's apr_hooks, as in httpd: a module registers its
 * functions in register_hooks() with ordering constraints by module name,
 * the core sorts them once (apr_hook_sort_all) and runs them per phase.
 * Which hooks run all functions and which stop at the first answer is
 * documented beside each declaration in hr_module.h.
 */
#include <apr_hooks.h>

#include "hr_core.h"

APR_HOOK_STRUCT(
    APR_HOOK_LINK(connect)
    APR_HOOK_LINK(helo)
    APR_HOOK_LINK(capabilities)
    APR_HOOK_LINK(mail)
    APR_HOOK_LINK(rcpt)
    APR_HOOK_LINK(rcpt_check)
    APR_HOOK_LINK(data)
    APR_HOOK_LINK(body)
    APR_HOOK_LINK(data_end)
    APR_HOOK_LINK(queued)
    APR_HOOK_LINK(reset)
    APR_HOOK_LINK(quit)
    APR_HOOK_LINK(disconnect)
)

APR_IMPLEMENT_EXTERNAL_HOOK_RUN_ALL(hr, HR, int, connect, (hr_session *s),
                                    (s), HR_OK, HR_DECLINED)
APR_IMPLEMENT_EXTERNAL_HOOK_RUN_ALL(hr, HR, int, helo,
                                    (hr_session *s, const char *verb,
                                     const char *domain),
                                    (s, verb, domain), HR_OK, HR_DECLINED)
APR_IMPLEMENT_EXTERNAL_HOOK_RUN_ALL(hr, HR, int, capabilities,
                                    (hr_session *s), (s), HR_OK, HR_DECLINED)
APR_IMPLEMENT_EXTERNAL_HOOK_RUN_ALL(hr, HR, int, mail,
                                    (hr_session *s, hr_txn *txn), (s, txn),
                                    HR_OK, HR_DECLINED)
APR_IMPLEMENT_EXTERNAL_HOOK_RUN_FIRST(hr, HR, int, rcpt,
                                      (hr_session *s, hr_txn *txn,
                                       hr_rcpt *rcpt),
                                      (s, txn, rcpt), HR_DECLINED)
APR_IMPLEMENT_EXTERNAL_HOOK_RUN_ALL(hr, HR, int, rcpt_check,
                                    (hr_session *s, hr_txn *txn,
                                     hr_rcpt *rcpt),
                                    (s, txn, rcpt), HR_OK, HR_DECLINED)
APR_IMPLEMENT_EXTERNAL_HOOK_RUN_ALL(hr, HR, int, data,
                                    (hr_session *s, hr_txn *txn), (s, txn),
                                    HR_OK, HR_DECLINED)
APR_IMPLEMENT_EXTERNAL_HOOK_RUN_ALL(hr, HR, int, body,
                                    (hr_session *s, hr_txn *txn,
                                     const char *data, apr_size_t len),
                                    (s, txn, data, len), HR_OK, HR_DECLINED)
APR_IMPLEMENT_EXTERNAL_HOOK_RUN_ALL(hr, HR, int, data_end,
                                    (hr_session *s, hr_txn *txn), (s, txn),
                                    HR_OK, HR_DECLINED)
APR_IMPLEMENT_EXTERNAL_HOOK_RUN_ALL(hr, HR, int, queued,
                                    (hr_session *s, hr_txn *txn,
                                     const char *queue_id),
                                    (s, txn, queue_id), HR_OK, HR_DECLINED)
APR_IMPLEMENT_EXTERNAL_HOOK_RUN_ALL(hr, HR, int, reset,
                                    (hr_session *s, hr_txn *txn), (s, txn),
                                    HR_OK, HR_DECLINED)
APR_IMPLEMENT_EXTERNAL_HOOK_RUN_ALL(hr, HR, int, quit, (hr_session *s), (s),
                                    HR_OK, HR_DECLINED)
APR_IMPLEMENT_EXTERNAL_HOOK_RUN_ALL(hr, HR, int, disconnect, (hr_session *s),
                                    (s), HR_OK, HR_DECLINED)

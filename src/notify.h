/* The service manager's side of harkd's life (sd_notify(3)); the only module
 * that speaks the notify protocol. Every call is a no-op outside systemd. */
#pragma once

void notify_ready(void);
void notify_reloading(void);
void notify_stopping(void);
/* text: one line, e.g. the counters (see counters_format_status()). */
void notify_status(const char *text);

/* The watchdog interval in ms that systemd asks for, or 0 when none. */
long long notify_watchdog_interval_ms(void);
void notify_watchdog(void);

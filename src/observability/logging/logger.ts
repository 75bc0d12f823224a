// The `logger` option's contract and the sink every log line goes through. librdkafka hands each
// line to log_cb as (level, facility, text) and by default prints it to stderr as
// `%<level>|<seconds>|<FAC>|<name>| <text>` (rdkafka.c, rd_kafka_log_print); we keep that shape so
// that people who grep librdkafka logs find the same fields here.

/**
 * What the `logger` option takes: any object with `debug`, `info`, `warn` and `error` methods that
 * accept a string: pino, winston, bunyan, `console`, or your own. Each method is called with one
 * string, `<FACILITY>|<client.id>| <text>` (e.g. `SEND|my-app| ApiVersions v3 request ...`), and with
 * the logger as `this`.
 */
export interface Logger {
  debug(message: string): void
  info(message: string): void
  warn(message: string): void
  error(message: string): void
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'error'

/** The method names a logger must have. */
export const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error']

/** syslog severities, as librdkafka numbers its log levels (LOG_DEBUG 7 ... LOG_ERR 3). */
const SYSLOG: Readonly<Record<LogLevel, number>> = { debug: 7, info: 6, warn: 4, error: 3 }

/**
 * The default logger: one librdkafka-like line per call on stderr,
 * `%7|1733400000.123|SEND|my-app| ApiVersions v3 request ...`. `write` and `now` are seams for tests.
 */
export function stderrLogger(
  write: (line: string) => void = (line) => void process.stderr.write(line),
  now: () => number = Date.now,
): Logger {
  const at = (level: LogLevel) => (message: string) =>
    write(`%${SYSLOG[level]}|${(now() / 1000).toFixed(3)}|${message}\n`)
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') }
}

/** Longest text one line carries: an error message from the network could be megabytes. */
const MAX_TEXT = 2048

/**
 * Makes a string safe for a one-line log record: control characters (a broker-sent topic, host or
 * error message is hostile and could forge log lines with a newline) become `\xNN` or `\uNNNN`
 * escapes, and anything past {@link MAX_TEXT} characters is cut off.
 */
export function sanitize(text: string): string {
  // eslint-disable-next-line no-control-regex
  const safe = text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g, (ch) => {
    const code = ch.charCodeAt(0)
    return code <= 0xff
      ? `\\x${code.toString(16).padStart(2, '0')}`
      : `\\u${code.toString(16).padStart(4, '0')}`
  })
  return safe.length > MAX_TEXT ? `${safe.slice(0, MAX_TEXT)}... (${safe.length - MAX_TEXT} more)` : safe
}

/**
 * Where the producer's log lines go: formats them, and keeps the producer safe from its logger. A
 * logger that throws loses that line and nothing else: logging must never break the code that logs
 * (the same rule as the instrumentation hub's listeners).
 */
export class LogSink {
  constructor(
    private readonly logger: Logger,
    private readonly name: string,
  ) {}

  write(level: LogLevel, facility: string, text: string): void {
    try {
      this.logger[level](`${facility}|${this.name}| ${sanitize(text)}`)
    } catch {
      // The logger failed; there is nowhere left to report that to.
    }
  }
}

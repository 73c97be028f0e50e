import { type Logger, pino } from 'pino';

/**
 * Structured JSON logs on stderr, quiet by default (warnings and errors only); set LOG_LEVEL=info
 * or debug to see more. stdout stays free for the messages meant for people.
 */
export const createLogger = (level = process.env.LOG_LEVEL ?? 'warn'): Logger =>
  pino({ level, base: { service: 'touchpoint' } }, pino.destination({ dest: 2, sync: false }));

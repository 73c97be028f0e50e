import cliProgress from 'cli-progress';
import type { ImportProgress } from '../ingest/import-file.js';

const formatInt = (n: number) => Math.round(n).toLocaleString('en');

const eta = (progress: ImportProgress): string => {
  const fraction = progress.totalBytes > 0 ? progress.bytesRead / progress.totalBytes : 0;
  if (fraction <= 0 || fraction >= 1) return fraction >= 1 ? '0s' : '?';
  const seconds = (progress.elapsedMs / 1000) * ((1 - fraction) / fraction);
  return seconds >= 90 ? `${Math.round(seconds / 60)}m` : `${Math.round(seconds)}s`;
};

export interface ProgressReporter {
  update(progress: ImportProgress): void;
  stop(): void;
}

/**
 * A progress bar (rows, rows/s, ETA) on a terminal; on anything else (CI logs, pipes) a plain line
 * every few seconds, so logs stay readable.
 */
export const progressReporter = (
  label: string,
  stream: NodeJS.WriteStream = process.stderr,
): ProgressReporter => {
  if (stream.isTTY) {
    const bar = new cliProgress.SingleBar(
      {
        format: `${label} |{bar}| {percentage}% | {rowsText} rows | {rate} rows/s | ETA {etaText} | {rejected} rejected`,
        stream,
        hideCursor: true,
        barsize: 24,
      },
      cliProgress.Presets.shades_classic,
    );
    let started = false;
    return {
      update(progress) {
        const payload = {
          rowsText: formatInt(progress.rows),
          rate: formatInt(progress.rows / Math.max(progress.elapsedMs / 1000, 0.001)),
          etaText: eta(progress),
          rejected: formatInt(progress.rejected),
        };
        if (!started) {
          bar.start(progress.totalBytes || 1, progress.bytesRead, payload);
          started = true;
        } else bar.update(progress.bytesRead, payload);
      },
      stop: () => bar.stop(),
    };
  }
  let last = 0;
  return {
    update(progress) {
      const now = Date.now();
      const done = progress.totalBytes > 0 && progress.bytesRead >= progress.totalBytes;
      if (now - last < 2000 && !done) return;
      last = now;
      const percent =
        progress.totalBytes > 0 ? Math.floor((100 * progress.bytesRead) / progress.totalBytes) : 0;
      stream.write(
        `${label}: ${formatInt(progress.rows)} rows (${percent}%), ` +
          `${formatInt(progress.rows / Math.max(progress.elapsedMs / 1000, 0.001))} rows/s, ETA ${eta(progress)}, ` +
          `${formatInt(progress.rejected)} rejected\n`,
      );
    },
    stop() {},
  };
};

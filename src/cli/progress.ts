import { SingleBar, Presets } from "cli-progress";

/**
 * One progress line for long CLI work: a cli-progress bar on a TTY, plain throttled lines
 * otherwise (CI logs, pipes), so output stays readable in both.
 */
export class ProgressLine {
  private bar: SingleBar | undefined;
  private title = "";
  private lastPlain = 0;
  private readonly tty = !!process.stderr.isTTY;

  update(title: string, percentage: number, message: string): void {
    if (title && title !== this.title) {
      this.finishBar();
      this.title = title.replace(/ \d+\/\d+$/, "");
    }
    const pct = Math.max(0, Math.min(100, Math.round(percentage)));
    if (this.tty) {
      if (!this.bar) {
        this.bar = new SingleBar({ format: "{title} [{bar}] {percentage}% {message}", stream: process.stderr, hideCursor: true }, Presets.shades_classic);
        this.bar.start(100, pct, { title: this.title, message });
      } else this.bar.update(pct, { title: title || this.title, message });
      return;
    }
    const now = Date.now();
    if (now - this.lastPlain > 5000 || pct === 100) {
      this.lastPlain = now;
      console.error(`${title || this.title}: ${pct}% ${message}`);
    }
  }

  /** A line printed above the bar. */
  log(line: string): void {
    this.finishBar();
    console.error(line);
  }

  /** Ends the current bar and prints a summary line. */
  done(line: string): void {
    this.finishBar();
    console.error(line);
  }

  private finishBar(): void {
    if (this.bar) {
      this.bar.stop();
      this.bar = undefined;
    }
  }
}

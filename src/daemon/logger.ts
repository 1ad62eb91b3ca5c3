// Leveled log lines on stderr: stdout belongs to JSON-RPC. Messages name runs, files and
// states, never file contents.
export type LogLevel = "debug" | "info" | "warn" | "error";
const ORDER: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

export function isLogLevel(v: unknown): v is LogLevel {
  return typeof v === "string" && v in ORDER;
}

export type Logger = (level: LogLevel, message: string) => void;

export function stderrLogger(minLevel: LogLevel, stream: NodeJS.WritableStream = process.stderr): Logger {
  return (level, message) => {
    if (ORDER[level] < ORDER[minLevel]) return;
    stream.write(`${new Date().toISOString()} [${level}] ${message}\n`);
  };
}

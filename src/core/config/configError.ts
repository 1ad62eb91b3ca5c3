/**
 * A config problem at a JSON path (RFC 6901 pointer, "" = the whole document) in `file`. The one
 * class for every config check: the schema pass (validate.ts), the up-front pass before a run
 * folder exists (src/daemon/preflight.ts) and the config file reader. The RPC server turns it
 * into an InvalidConfig error with the path as data (src/daemon/rpcErrors.ts).
 */
export class ConfigError extends Error {
  constructor(
    readonly jsonPath: string,
    readonly detail: string,
    readonly file?: string,
  ) {
    super(`${file ? `${file}: ` : ""}${jsonPath || "/"}: ${detail}`);
    this.name = "ConfigError";
  }
}

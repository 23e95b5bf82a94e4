/** The server's version, as `--version` and `/health` report it. */
export const version = '0.1.0';

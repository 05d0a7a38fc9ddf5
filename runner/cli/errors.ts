/**
 * Exit codes scripts can rely on, and the error type commands throw to choose one.
 *
 * @module
 */

/** The runner's exit codes. 78 is EX_CONFIG, which systemd units treat as "do not respawn". */
export const EXIT = {
  ok: 0,
  failure: 1,
  usage: 2,
  config: 78,
} as const;

/** A failure the CLI reports as one line on stderr, exiting with `exitCode`. */
export class CliError extends Error {
  constructor(message: string, readonly exitCode: number = EXIT.failure) {
    super(message);
    this.name = "CliError";
  }
}

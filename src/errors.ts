/**
 * Errors a user can act on. The CLI prints `message` as one line and exits
 * with `exitCode`; anything else is an internal error (exit 1, stack with --debug).
 */
export class CrmError extends Error {
  constructor(
    message: string,
    readonly exitCode: 1 | 2,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** Bad input that stops the run: unreadable file, missing column, empty input. Exit 1. */
export class InputError extends CrmError {
  constructor(message: string) {
    super(message, 1);
  }
}

/** A wrong flag, option value or config file. Exit 2. */
export class UsageError extends CrmError {
  constructor(message: string) {
    super(message, 2);
  }
}

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

/**
 * The engine needed more memory than its limit allows and could not spill
 * enough: the job fails (exit 1) saying where, under which limit, and what to
 * do. The engine raises it; the pipeline adds the stage that was running.
 */
export class OutOfMemoryError extends CrmError {
  constructor(
    /** The engine's own words, e.g. "could not allocate block of size 30.5 MiB (0 bytes/976.5 KiB used)". */
    readonly detail: string,
    readonly limit: string,
    /** The folder the run spills into (its spill folder's parent). */
    readonly tempDir: string,
    readonly stage?: string,
  ) {
    super(
      `${stage ? `the ${stage} stage` : 'the run'} ran out of memory under --memory-limit ${limit} (${detail}): ` +
        `raise --memory-limit, and check that the temporary folder ${tempDir} (--temp-dir) has free space to spill to`,
      1,
    );
  }

  /** The same error, naming the stage it happened in (the innermost one, if already named). */
  inStage(stage: string): OutOfMemoryError {
    return this.stage ? this : new OutOfMemoryError(this.detail, this.limit, this.tempDir, stage);
  }
}

/** Runs one stage of a job: the engine knows it ran out of memory, the job knows in which stage. */
export async function namingStage<T>(stage: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw error instanceof OutOfMemoryError ? error.inStage(stage) : error;
  }
}

/** Why a database server could not do the work, in the user's terms. */
export type EngineProblem = 'unreachable' | 'tls' | 'credentials' | 'permission' | 'no-database' | 'out-of-memory' | 'disk-full' | 'lock-timeout' | 'too-many-connections';

/**
 * A database server (PostgreSQL/Citus) could not do the work for a reason the
 * user can act on. Exit 2 where the connection setting is what needs changing
 * (TLS, credentials, privileges, a database that does not exist), 1 otherwise. The engine
 * writes the message, never with the password in it.
 */
export class EngineError extends CrmError {
  constructor(
    message: string,
    readonly problem: EngineProblem,
    exitCode: 1 | 2 = 1,
  ) {
    super(message, exitCode);
  }
}

/** A database file another process holds (the engine's own words in `detail`): the caller may wait and try again. */
export class DatabaseInUseError extends InputError {
  constructor(readonly detail: string) {
    super(detail);
  }
}

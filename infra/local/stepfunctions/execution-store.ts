/**
 * Execution records on disk: one JSON file per execution (record and history), written atomically, so that
 * `DescribeExecution`, `ListExecutions` and `GetExecutionHistory` still answer after a restart.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { HistoryEvent } from '@aws-sdk/client-sfn';
import type { ExecutionRecord } from './types.ts';

/** What is persisted for one execution. */
export interface ExecutionSnapshot {
  execution: ExecutionRecord;
  history: HistoryEvent[];
}

interface StoredExecution {
  version: 1;
  execution: Omit<ExecutionRecord, 'startDate' | 'stopDate'> & { startDate: string; stopDate?: string };
  history: (Omit<HistoryEvent, 'timestamp'> & { timestamp: string })[];
}

const FILE_SUFFIX = '.json';

function revive(stored: StoredExecution): ExecutionSnapshot {
  const { startDate, stopDate, ...rest } = stored.execution;
  return {
    execution: {
      ...rest,
      startDate: new Date(startDate),
      ...(stopDate === undefined ? {} : { stopDate: new Date(stopDate) }),
    },
    history: stored.history.map((event) => ({ ...event, timestamp: new Date(event.timestamp) })),
  };
}

/** A directory of execution snapshots. */
export class ExecutionStore {
  readonly #dir: string;
  readonly #log: (line: string) => void;
  /** Last write per file: writes to one file are chained so that an older snapshot never wins. */
  readonly #writes = new Map<string, Promise<void>>();
  #sequence = 0;

  constructor(dir: string, log: (line: string) => void) {
    this.#dir = dir;
    this.#log = log;
    mkdirSync(dir, { recursive: true });
  }

  /** Every readable snapshot; unreadable files are reported and skipped rather than blocking start-up. */
  loadAll(): ExecutionSnapshot[] {
    const snapshots: ExecutionSnapshot[] = [];
    for (const file of readdirSync(this.#dir).filter((name) => name.endsWith(FILE_SUFFIX))) {
      try {
        snapshots.push(revive(JSON.parse(readFileSync(join(this.#dir, file), 'utf8')) as StoredExecution));
      } catch (error) {
        this.#log(`skipping unreadable execution record ${file}: ${(error as Error).message}`);
      }
    }
    return snapshots;
  }

  /** Persist a snapshot as it is now (serialised immediately), in the background. */
  save(snapshot: ExecutionSnapshot): void {
    const file = join(
      this.#dir,
      createHash('sha256').update(snapshot.execution.executionArn).digest('hex') + FILE_SUFFIX,
    );
    const text = JSON.stringify({ version: 1, ...snapshot });
    const previous = this.#writes.get(file) ?? Promise.resolve();
    const write = previous.then(() => this.#writeAtomically(file, text));
    this.#writes.set(file, write);
    void write.finally(() => {
      if (this.#writes.get(file) === write) this.#writes.delete(file);
    });
  }

  /** Resolves once every snapshot saved so far is on disk. */
  async flush(): Promise<void> {
    await Promise.all(this.#writes.values());
  }

  /** Write-then-rename, so that a crash mid-write leaves the previous snapshot intact. Never rejects. */
  async #writeAtomically(file: string, text: string): Promise<void> {
    const temporary = `${file}.${process.pid}.${++this.#sequence}.tmp`;
    try {
      await writeFile(temporary, text);
      await rename(temporary, file);
    } catch (error) {
      this.#log(`could not persist execution record ${file}: ${(error as Error).message}`);
    }
  }
}

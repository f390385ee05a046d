import type { Logger } from '../platform/logger.ts';
import type { ServableModel } from './onnx-model.ts';

/**
 * The models a container has loaded, by storage location, least recently used first out. Bounded by
 * a count and by the bytes of their ONNX files (a session takes about as much memory again). Requests
 * for a model that is loading share its load. A load that failed is remembered for `failureTtlMs`,
 * so a broken deploy answers its error at once instead of reading S3 on every request.
 */
export interface ModelCacheOptions {
  load: (storageLocation: string) => Promise<ServableModel>;
  maxModels: number;
  maxBytes: number;
  /** @default 5000 */
  failureTtlMs?: number;
  logger?: Logger;
  now?: () => number;
}

interface Entry {
  model: Promise<ServableModel>;
  /** Set once loaded. */
  loaded?: ServableModel;
  failedAt?: number;
  /** Predictions running on it: an evicted model is released once none is left. */
  active: number;
  evicted: boolean;
}

export class ModelCache {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly options: ModelCacheOptions) {}

  /** Runs `use` with the model at `storageLocation`, loading it first if this container has not. */
  async with<T>(
    storageLocation: string,
    use: (model: ServableModel, coldLoadMs: number | undefined) => Promise<T>,
  ): Promise<T> {
    const { entry, cold } = this.entry(storageLocation);
    const model = await entry.model;
    entry.active++;
    try {
      return await use(model, cold ? model.loadMs : undefined);
    } finally {
      entry.active--;
      if (entry.evicted && entry.active === 0) void this.release(entry);
    }
  }

  /** Locations loaded or loading, least recently used first (for tests and logs). */
  locations(): string[] {
    return [...this.entries.keys()];
  }

  private entry(location: string): { entry: Entry; cold: boolean } {
    const now = (this.options.now ?? Date.now)();
    const existing = this.entries.get(location);
    if (
      existing &&
      !(existing.failedAt !== undefined && now - existing.failedAt >= (this.options.failureTtlMs ?? 5000))
    ) {
      this.entries.delete(location);
      this.entries.set(location, existing);
      return { entry: existing, cold: false };
    }
    const entry: Entry = { model: this.options.load(location), active: 0, evicted: false };
    this.entries.delete(location);
    this.entries.set(location, entry);
    entry.model.then(
      (model) => {
        entry.loaded = model;
        this.evict(location);
      },
      () => {
        entry.failedAt = (this.options.now ?? Date.now)();
      },
    );
    return { entry, cold: true };
  }

  /** Drops least recently used models until the bounds hold; the newest (`keep`) always stays. */
  private evict(keep: string): void {
    const loaded = () => [...this.entries.entries()].filter(([, entry]) => entry.loaded);
    const bytes = () => loaded().reduce((sum, [, entry]) => sum + (entry.loaded?.sizeBytes ?? 0), 0);
    for (const [location, entry] of loaded()) {
      if (location === keep) continue;
      if (loaded().length <= this.options.maxModels && bytes() <= this.options.maxBytes) break;
      this.entries.delete(location);
      entry.evicted = true;
      this.options.logger?.info('model evicted', {
        storageLocation: location,
        sizeBytes: entry.loaded?.sizeBytes,
      });
      if (entry.active === 0) void this.release(entry);
    }
  }

  private async release(entry: Entry): Promise<void> {
    await entry.loaded?.release().catch(() => undefined);
  }
}

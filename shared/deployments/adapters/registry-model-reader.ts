import { DynamoRegistryRepository } from '../../registry/adapters/registry.dynamodb-repository.ts';
import type { RegistryRepository } from '../../registry/ports.ts';
import type { RegisteredModelReader, RegisteredModelView } from '../ports.ts';

/**
 * Reads registered models from the registry table through the registry's own repository (one name
 * lookup and one Query of the model's partition), read only: the deployments function is granted
 * read access to the registry table and nothing more.
 */
export class RegistryModelReader implements RegisteredModelReader {
  private readonly repository: Pick<RegistryRepository, 'get'>;

  constructor(registryTableName: string, repository?: Pick<RegistryRepository, 'get'>) {
    this.repository = repository ?? new DynamoRegistryRepository(registryTableName);
  }

  async get(name: string): Promise<RegisteredModelView | undefined> {
    const state = await this.repository.get(name);
    if (!state) return undefined;
    const stages: Record<string, string[]> = {};
    for (const [version, entry] of Object.entries(state.model.stages)) {
      stages[entry.stage] = [...(stages[entry.stage] ?? []), version];
    }
    return {
      name: state.model.name,
      versions: state.versions.map((version) => String(version.version)),
      aliases: Object.fromEntries(state.aliases.map((alias) => [alias.alias, String(alias.version)])),
      stages,
    };
  }
}

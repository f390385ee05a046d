import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root: function entries and the CLI's files are found relative to it. */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

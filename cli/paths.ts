import { join } from 'node:path';
import { projectRoot } from '../lib/paths';

export { projectRoot };

export const stackScript = () => join(projectRoot(), 'scripts', 'stack.sh');

import { CoreSchema1764480000000 } from './1764480000000-core-schema';

/** Every migration, in order. Listed explicitly so the same code runs from TypeScript and from dist/. */
export const migrations = [CoreSchema1764480000000];

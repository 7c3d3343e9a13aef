import { badRequest } from '../errors';

/**
 * Actionbase's one rule for database, table and alias names (V3NameValidator): a letter, then letters,
 * digits, `_` or `-`, 64 characters at most. No dot, slash, quote or space can reach a path, a storage
 * key or a log line through a name.
 */
export const NAME_PATTERN = /^[a-zA-Z][a-zA-Z0-9_-]{0,63}$/;
export const NAME_RULE = 'must start with a letter, contain only alphanumeric/underscore/hyphen, max 64 chars';

export type NameKind = 'database' | 'table' | 'alias';

export function isValidName(name: unknown): name is string {
  return typeof name === 'string' && NAME_PATTERN.test(name);
}

/** Returns the name, or throws a 400 naming `field` (the path parameter or body field it came from). */
export function checkName(name: unknown, kind: NameKind, field: string = kind): string {
  if (!isValidName(name)) throw badRequest(field, `invalid ${kind} name ${JSON.stringify(String(name).slice(0, 80))}: ${NAME_RULE}`);
  return name;
}

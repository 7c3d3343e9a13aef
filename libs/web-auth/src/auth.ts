/**
 * Who is asking: static per-person bearer tokens, and optionally short-lived signed tokens (JWT, verified with
 * `jose`) for deployments where an identity provider or the `mint-token` command issues them.
 *
 * Static tokens are kept only as SHA-256 digests and compared digest against digest with timingSafeEqual for
 * every configured token, so neither the token's content nor its length changes the time an answer takes.
 */
import { createHash, createPublicKey, createSecretKey, timingSafeEqual, type KeyObject } from 'node:crypto';
import { createRemoteJWKSet, errors as joseErrors, jwtVerify, SignJWT, type JWTVerifyGetKey } from 'jose';

/** Why a request was refused; written to the audit line, never sent to the client beyond "401". */
export type Refusal = 'missing' | 'malformed' | 'unknown-token' | 'expired' | 'bad-signature' | 'bad-claims';

export type AuthResult = { user: string; via: 'token' | 'jwt' } | { refusal: Refusal };

export interface JwtSettings {
  /** HS256 shared secret (32+ bytes); or */
  secret?: string;
  /** a PEM public key (RS256, ES256, EdDSA); or */
  publicKeyPem?: string;
  /** a JWKS URL (an OIDC provider's jwks_uri). */
  jwksUrl?: string;
  issuer?: string;
  audience: string;
  /** Longest lifetime accepted (exp - iat); tokens without exp or iat are refused. */
  maxTtlSeconds: number;
  /** Claim that names the person (the audit's `user`). */
  userClaim: string;
}

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

/** A username as it may appear in LOOKUP_TOKENS and in the audit log. */
export const USER_PATTERN = /^[A-Za-z0-9._@+-]{1,64}$/;

/**
 * Rough strength of a token: its length times log2 of the alphabet its character classes span. A floor against
 * `password`-like values, not a proof of randomness; random tokens (`openssl rand -base64 32`) pass easily.
 */
export function tokenWeakness(token: string): string | undefined {
  if (token.length < 20) return `is ${token.length} characters long; use 20 or more (e.g. openssl rand -base64 32)`;
  if (/\s/.test(token)) return 'contains whitespace';
  if (new Set(token).size < 8) return 'has fewer than 8 distinct characters';
  let alphabet = 0;
  if (/[a-z]/.test(token)) alphabet += 26;
  if (/[A-Z]/.test(token)) alphabet += 26;
  if (/[0-9]/.test(token)) alphabet += 10;
  if (/[^A-Za-z0-9]/.test(token)) alphabet += 32;
  const bits = token.length * Math.log2(alphabet);
  if (bits < 96) return `carries about ${Math.floor(bits)} bits; 96 or more are needed (longer, or more character classes)`;
  return undefined;
}

/**
 * Parses `user:token,user2:token2`. Every token must be unique (a shared token would make the audit name the wrong
 * person) and strong enough; a person may hold several tokens (rotation). Throws a message meant for the operator.
 */
export function parseTokenList(s: string): Map<string, string> {
  const byDigest = new Map<string, string>();
  const problems: string[] = [];
  const entries = s
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean);
  for (const [n, pair] of entries.entries()) {
    const i = pair.indexOf(':');
    const user = i > 0 ? pair.slice(0, i) : '';
    const token = pair.slice(i + 1);
    if (i <= 0 || !USER_PATTERN.test(user)) {
      problems.push(`entry ${n + 1}: expected user:token with a user of letters, digits and . _ @ + - (at most 64)`);
      continue;
    }
    const weak = tokenWeakness(token);
    if (weak) {
      problems.push(`the token of ${user} ${weak}`);
      continue;
    }
    const key = digest(token).toString('hex');
    const holder = byDigest.get(key);
    if (holder !== undefined) {
      problems.push(`${holder} and ${user} have the same token; give every person their own`);
      continue;
    }
    byDigest.set(key, user);
  }
  if (problems.length) throw new Error(problems.join('; '));
  return byDigest;
}

export class Authenticator {
  private readonly tokens: { digest: Buffer; user: string }[];
  private readonly jwtKey: KeyObject | JWTVerifyGetKey | undefined;

  /** tokens: sha256-hex digest -> user, as parseTokenList returns. */
  constructor(
    tokens: Map<string, string>,
    private readonly jwt?: JwtSettings,
  ) {
    this.tokens = [...tokens].map(([d, user]) => ({ digest: Buffer.from(d, 'hex'), user }));
    if (jwt?.secret !== undefined) this.jwtKey = createSecretKey(Buffer.from(jwt.secret, 'utf8'));
    else if (jwt?.publicKeyPem !== undefined) this.jwtKey = createPublicKey(jwt.publicKeyPem);
    else if (jwt?.jwksUrl !== undefined) this.jwtKey = createRemoteJWKSet(new URL(jwt.jwksUrl));
  }

  /** True when nothing at all can authenticate (every lookup will be refused). */
  get empty(): boolean {
    return this.tokens.length === 0 && this.jwtKey === undefined;
  }

  /** Only `Authorization: Bearer <token>`; tokens in the query string, Basic credentials or bare tokens are refused. */
  async authenticate(header: string | undefined): Promise<AuthResult> {
    if (header === undefined || header === '') return { refusal: 'missing' };
    const m = /^Bearer ([\x21-\x7e]{1,4096})$/i.exec(header);
    if (!m) return { refusal: 'malformed' };
    const given = m[1]!;
    const d = digest(given);
    let user: string | undefined;
    for (const t of this.tokens) if (timingSafeEqual(t.digest, d)) user = t.user;
    if (user !== undefined) return { user, via: 'token' };
    if (this.jwtKey !== undefined && this.jwt && /^[\w-]+\.[\w-]+\.[\w-]+$/.test(given)) return this.verifyJwt(given, this.jwt);
    return { refusal: 'unknown-token' };
  }

  private async verifyJwt(token: string, s: JwtSettings): Promise<AuthResult> {
    try {
      const algorithms = s.secret !== undefined ? ['HS256'] : ['RS256', 'PS256', 'ES256', 'EdDSA'];
      const opts = { audience: s.audience, algorithms, requiredClaims: ['exp', 'iat', s.userClaim], ...(s.issuer ? { issuer: s.issuer } : {}) };
      const { payload } = typeof this.jwtKey === 'function' ? await jwtVerify(token, this.jwtKey, opts) : await jwtVerify(token, this.jwtKey as KeyObject, opts);
      const user = payload[s.userClaim];
      if (typeof user !== 'string' || !USER_PATTERN.test(user)) return { refusal: 'bad-claims' };
      // A token valid for days is a password in disguise: refuse lifetimes over the limit.
      if (payload.exp! - payload.iat! > s.maxTtlSeconds) return { refusal: 'bad-claims' };
      return { user, via: 'jwt' };
    } catch (err) {
      if (err instanceof joseErrors.JWTExpired) return { refusal: 'expired' };
      if (err instanceof joseErrors.JWSSignatureVerificationFailed) return { refusal: 'bad-signature' };
      if (err instanceof joseErrors.JWTClaimValidationFailed) return { refusal: 'bad-claims' };
      return { refusal: 'malformed' };
    }
  }
}

/** An HS256 token for one person, valid ttlSeconds: what `admin.cli.ts mint-token` prints. */
export async function mintToken(s: { secret: string; audience: string; issuer?: string; userClaim?: string }, user: string, ttlSeconds: number): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const claim = s.userClaim ?? 'sub';
  const jwt = new SignJWT(claim === 'sub' ? {} : { [claim]: user }).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).setSubject(user).setAudience(s.audience).setIssuedAt(now).setExpirationTime(now + ttlSeconds);
  if (s.issuer) jwt.setIssuer(s.issuer);
  return jwt.sign(createSecretKey(Buffer.from(s.secret, 'utf8')));
}

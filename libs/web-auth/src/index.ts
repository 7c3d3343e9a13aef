export { Authenticator, mintToken, parseTokenList, tokenWeakness, USER_PATTERN, type AuthResult, type JwtSettings, type Refusal } from './auth';
export { SECURITY_HEADERS, servePage } from './page';

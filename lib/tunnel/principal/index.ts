/** Principal propagation at the agent (user header or short-lived X.509 certificate). */
export { CertificateIssuer, createLocalCa } from './certificate'
export type { CertificateIssuerOptions, IssuedCertificate } from './certificate'
export {
  CLIENT_CERT_HEADER,
  DEFAULT_USER_HEADER,
  PrincipalPropagator,
  parsePrincipalPropagation,
  stripForBackend,
} from './propagate'
export type { PrincipalPropagationConfig, PrincipalPropagatorOptions, PropagationResult } from './propagate'
export { createJwtVerifier, parseTrust } from './trust'
export type { JwtVerifier, TrustConfig } from './trust'
export { parseSubjectPattern, renderSubject, userOfClaims } from './user'
export type { SubjectAttribute } from './user'
export { createPrincipalHook } from './agent-hook'
export type { PrincipalHookContext, PrincipalHookOptions } from './agent-hook'

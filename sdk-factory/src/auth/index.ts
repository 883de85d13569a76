// The auth part (issue 11, items 2 and 3): the cloud credential store and every auth scheme an
// operation's security requirements name, applied by the host (never by sandboxed code).
export { AuthError, AuthErrorCode } from './auth-error';
export { Credential, CredentialName, OwnerCredential, type CredentialInput, type CredentialKind } from './credential';
export { createLocalKeyWrapper, type KeyWrapper, type WrapContext } from './key-wrapper';
export { AuthSettings, localKeyWrapper } from './config';
export { createMetadataCredentialStore, type CredentialStore, type CredentialSummary } from './credential-store';
export {
  createAuthenticator,
  credentialName,
  isPlatformCredentialName,
  tenantOfState,
  schemeCredentialProvider,
  tokenName,
  withCredentials,
  type Authenticator,
  type AuthenticatorDeps,
  type AuthEvent,
  type CredentialProvider,
  type CredentialRequest,
  type OutgoingCredentials,
} from './authenticator';
export { namedCredentialHeaders } from './named-credentials';
export { isLoopback, requireSecureTransport } from './transport';

export {
  createHostHttp,
  SandboxHttpRequest,
  type CredentialAttachment,
  type CredentialProvider,
  type CredentialRequest,
  type HostHttp,
  type HostHttpOptions,
  type SandboxHttpResponse,
} from './host-http';
export type { EgressResolver, EgressRule } from '@vansales/dataflow/egress';

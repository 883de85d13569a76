import type {
  AgentCapability,
  ApiFetchSpecInputT,
  ApiFetchSpecOutputT,
  DataExtractInputT,
  DataExtractOutputT,
  DataLoadInputT,
  DataLoadOutputT,
  DataTransferInputT,
  DataTransferOutputT,
  DataTransformInputT,
  DataTransformOutputT,
  PolicyDescribeOutputT,
  SiteHttpReadInputT,
  SiteHttpReadOutputT,
  SiteHttpWriteInputT,
  SiteHttpWriteOutputT,
  SiteTableWriteInputT,
  SiteTableWriteOutputT,
  SchemaDiscoverInputT,
  SqlQueryInputT,
  SqlQueryOutputT,
  SyncChecksumInputT,
  SyncChecksumOutputT,
  SyncDeleteInputT,
  SyncDeleteOutputT,
  SyncExtractInputT,
  SyncExtractOutputT,
  TableWatchInputT,
  TableWatchOutputT,
} from '@vansales/protocol';

/**
 * Activities that run on a site, on the task queue `connector.<connectorId>`. The gateway node
 * that holds the agent's WebSocket implements them by forwarding each task to the agent.
 * Workflows import this type only.
 */
export interface AgentActivities {
  sqlQuery(input: SqlQueryInputT): Promise<SqlQueryOutputT>;
  /**
   * Reads a configured database's structure from its catalog (read-only). The gateway records the
   * snapshot in the schema registry as it arrives and returns a reference: a schema of thousands
   * of tables never rides through Temporal history (claim-check).
   */
  schemaDiscover(input: SchemaDiscoverInputT): Promise<SchemaRecorded>;
  /** Round trip to the agent and back, doing nothing on site: a health check, and the overhead benchmark's probe. */
  agentPing(): Promise<PingOutput>;
  /**
   * A table or read-only query of the site into the buffer object `objectId`, in chunks. The
   * gateway adds the object-scoped grant on the way; a retry resumes after the last stored chunk.
   */
  dataExtract(input: Omit<DataExtractInputT, 'buffer'>): Promise<DataExtractOutputT>;
  /** A buffer object into a table of the site (upsert by key), if the site's policy allows that table. */
  dataLoad(input: Omit<DataLoadInputT, 'buffer'>): Promise<DataLoadOutputT>;
  /** One database of the site into another, streamed; nothing leaves the site. */
  dataTransfer(input: DataTransferInputT): Promise<DataTransferOutputT>;
  /**
   * A definition's transform over buffer objects, run on the site (rows its policy protects stay
   * there): the gateway adds a read grant per input object, and a write and a read grant for the
   * output (a retry reads back what an attempt whose answer was lost committed).
   */
  dataTransform(
    input: Omit<DataTransformInputT, 'leftBuffer' | 'rightBuffer' | 'outputBuffer' | 'outputReadBuffer'>,
  ): Promise<DataTransformOutputT>;
  /**
   * Pages of one of the site's own APIs (named in its policy file) into the buffer object `objectId`;
   * the agent attaches the API's credential, the gateway the object-scoped grant. Nothing else leaves the site.
   */
  siteHttpRead(input: Omit<SiteHttpReadInputT, 'buffer'>): Promise<SiteHttpReadOutputT>;
  /** A buffer object to one of the site's own APIs, per record or batch; a retry resumes after what was accepted. */
  siteHttpWrite(input: Omit<SiteHttpWriteInputT, 'buffer'>): Promise<SiteHttpWriteOutputT>;
  /**
   * A table of a site database to one of the site's APIs, in one task on the site: the rows never
   * cross the socket nor land in the buffer (a definition's site-db source fused with its site-api destination).
   */
  siteTableToApi(input: SiteTableWriteInputT): Promise<SiteTableWriteOutputT>;
  /** The writable tables and API names of the site's policy (names only): validation's `destinationWritable`. */
  sitePolicyDescribe(): Promise<PolicyDescribeOutputT>;
  /** Bi-directional sync: count and checksum per key range, computed by the site's database (read-only, numbers only). */
  siteSyncChecksum(input: SyncChecksumInputT): Promise<SyncChecksumOutputT>;
  /** Bi-directional sync: the rows of the differing key ranges into the buffer object `objectId`. */
  siteSyncExtract(input: Omit<SyncExtractInputT, 'buffer'>): Promise<SyncExtractOutputT>;
  /** Bi-directional sync: deletes the keys of a buffer object from a table the site's policy lets be written. */
  siteSyncDelete(input: Omit<SyncDeleteInputT, 'buffer'>): Promise<SyncDeleteOutputT>;
  /**
   * The site-event trigger's read: waits up to `waitMs` for rows past `after` in a table of the site
   * (a PostgreSQL NOTIFY wakes it early), then extracts the next bounded batch into `objectId`.
   */
  tableWatch(input: Omit<TableWatchInputT, 'buffer'>): Promise<TableWatchOutputT>;
  /** An API specification at a URL on the site's network, fetched by the agent under its own rules (issue 11 item 1). */
  apiFetchSpec(input: Omit<ApiFetchSpecInputT, 'buffer'>): Promise<ApiFetchSpecOutputT>;
}

export interface SchemaRecorded {
  database: string;
  /** The registry's version of this structure (a new one only when it changed). */
  version: number;
  changed: boolean;
  tables: number;
}

export interface PingOutput {
  /** Who answered: an agent's version, or 'cloud'. */
  from: string;
}

/** Which agent operation each activity forwards to. */
export const AGENT_ACTIVITY_OPERATIONS: { [K in keyof AgentActivities]: AgentCapability } = {
  sqlQuery: 'sql.query',
  schemaDiscover: 'schema.discover',
  agentPing: 'agent.ping',
  dataExtract: 'data.extract',
  dataLoad: 'data.load',
  dataTransfer: 'data.transfer',
  dataTransform: 'data.transform',
  siteHttpRead: 'http.read',
  siteHttpWrite: 'http.write',
  siteTableToApi: 'http.write-table',
  sitePolicyDescribe: 'policy.describe',
  siteSyncChecksum: 'sync.checksum',
  siteSyncExtract: 'sync.extract',
  siteSyncDelete: 'sync.delete',
  tableWatch: 'table.watch',
  apiFetchSpec: 'api.fetch-spec',
};

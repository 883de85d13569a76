// Loaded by path (workflow sandbox, workers, clients), so it is plain CommonJS, not TypeScript.
// Failure messages and stack traces move into encoded attributes, which the payload codec
// encrypts: an error quoting a value from a customer's database is not stored in clear.
const { DefaultFailureConverter } = require('@temporalio/common');

exports.failureConverter = new DefaultFailureConverter({ encodeCommonAttributes: true });

/**
 * A step's error in words a workflow author can act on: the interpreter's message stays (it names
 * the table, the column, the site), and a sentence says what to do about that kind of failure.
 * Matched on the wording of the messages the interpreter, the agent and the gateway write today.
 */
const ADVICE: { test: RegExp; advice: string }[] = [
  {
    test: /offline|not connected|no agent|not online/i,
    advice:
      "The site's mini connector was not connected. Start it on the site (mini-connector run), check it shows Online on the Connectors page, then retry from this step.",
  },
  {
    test: /jsonata|mapping|expression/i,
    advice:
      'The mapping failed on the rows it got. Fix the expression in the designer, publish, then retry from this step.',
  },
  {
    test: /policy|refused|not allowed|denied|permission/i,
    advice:
      "The site or the destination refused the operation. Ask the site's administrator to allow it in the site policy (or grant the login the right), then retry from this step.",
  },
  {
    test: /timed? ?out|deadline/i,
    advice:
      'The step took longer than its time limit. Raise the step’s timeout or make it read less per run (an incremental source), then retry from this step.',
  },
  {
    // The destination's own rules (PostgreSQL, MariaDB, SQL Server wordings): a CHECK, NOT NULL,
    // unique or foreign key constraint, or a value its column cannot hold.
    test: /violates .*constraint|constraint .*(violat|fail)|cannot be null|duplicate (key|entry)|out of range|too long/i,
    advice:
      "The destination database refused the rows: a rule of its table (a constraint, or a column's type or length) does not hold for them. Change the mapping so the rows fit, or have the table's owner change the rule, then retry from this step: the steps before it are reused.",
  },
  {
    test: /does not exist|unknown (table|column)|no such|not found/i,
    advice:
      "Something the step names does not exist where it runs. Check the table and column names against the connector's schema browser, fix the step, publish, then retry.",
  },
  {
    test: /credential|unauthori[sz]ed|401|403|token/i,
    advice: 'The credentials the step uses were refused. Renew them (Credentials), then retry from this step.',
  },
];

export function explainStepError(error: string): string {
  return (
    ADVICE.find((a) => a.test.test(error))?.advice ??
    'Read the message above for what went wrong; fix the step (or its source data), then retry from this step.'
  );
}

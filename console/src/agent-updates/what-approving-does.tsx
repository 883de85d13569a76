/** What approving a version sets in motion, in words, before anyone presses Approve. */
export function WhatApprovingDoes() {
  return (
    <section aria-labelledby="what-approving-does">
      <h2 id="what-approving-does">What approving a version does</h2>
      <ul>
        <li>
          Every mini connector of this tenant is offered the approved version: those online at once, the others when
          they next connect. Without an approved version, agents keep the version they run.
        </li>
        <li>
          An agent downloads the new version only from this gateway, checks its checksum and verifies its signature
          against the release keys built into it, and refuses it if either does not match.
        </li>
        <li>
          It then swaps its executable, restarts, and goes back to the version it ran before if the new one does not
          connect to the gateway within its deadline.
        </li>
        <li>
          Each site has the last word: its local policy can pin a version or turn updates off, and then that agent stays
          where it is whatever is approved here.
        </li>
        <li>Withdrawing the approval stops the offers; agents keep the version they run, nothing is rolled back.</li>
      </ul>
    </section>
  );
}

export {
  createUpdater,
  settleSwitchAtStart,
  recordTrialWelcome,
  restartInto,
  runsAsSingleExecutable,
  updateFiles,
  UPDATE_TRIAL_ENV,
  RESTART_EXIT_CODE,
  type UpdaterOptions,
} from './updater';
export { UPDATE_STATE_FILE, readUpdateState, writeUpdateState, type UpdateState } from './update-state';
export { UpdateRefusedError, fetchVerifiedSums, downloadExecutable } from './release-download';

// Entry point of the workflow bundle (Worker's workflowsPath): every workflow the worker runs.
export { signingWorkflow } from './signing';

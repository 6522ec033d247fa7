// The ec2 driver's public surface. Importing this pulls in the AWS SDK; the
// plugin registry imports only ./schema.js until the driver is used.
export { Ec2Driver, type Ec2DriverDeps } from './ec2-driver.js';
export { distributeExisting, type DistributeExistingOptions } from './distribute-existing.js';
export { ec2Schema, type Ec2Options } from './schema.js';
export { Ec2Error } from './aws-errors.js';

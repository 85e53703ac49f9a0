// Original file: proto/corral/admin/v1/admin.proto


export interface InstanceStatus {
  'id'?: (string);
  'pid'?: (number);
  'release'?: (string);
  'pluginVersion'?: (string);
  'apiVersion'?: (string);
}

export interface InstanceStatus__Output {
  'id': (string);
  'pid': (number);
  'release': (string);
  'pluginVersion': (string);
  'apiVersion': (string);
}

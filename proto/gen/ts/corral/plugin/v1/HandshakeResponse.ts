// Original file: proto/corral/plugin/v1/control.proto


export interface HandshakeResponse {
  'protocolVersion'?: (number);
  'pluginName'?: (string);
  'pluginVersion'?: (string);
  'apiVersion'?: (string);
  'methods'?: (string)[];
  'shimVersion'?: (string);
}

export interface HandshakeResponse__Output {
  'protocolVersion': (number);
  'pluginName': (string);
  'pluginVersion': (string);
  'apiVersion': (string);
  'methods': (string)[];
  'shimVersion': (string);
}

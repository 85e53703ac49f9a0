// Original file: proto/corral/plugin/v1/control.proto


export interface HandshakeRequest {
  'protocolVersion'?: (number);
  'supervisorVersion'?: (string);
  'pushesTrust'?: (boolean);
}

export interface HandshakeRequest__Output {
  'protocolVersion': (number);
  'supervisorVersion': (string);
  'pushesTrust': (boolean);
}

// A throwaway PKI for the TLS tests, made with the OpenSSL C API once per process in a
// temporary directory: a CA, a server certificate, client certificates (with a CN, with only
// a DNS SAN) and one signed by a different, untrusted CA.
#pragma once

#include <string>

namespace shardmq::test {

struct KeyPair {
  std::string cert;
  std::string key;
};

struct TestPki {
  std::string dir;
  std::string ca_cert;
  KeyPair server;
  KeyPair client;      // subject CN=alice
  KeyPair san_client;  // no CN, DNS SAN bob.example
  KeyPair rogue;       // CN=mallory, signed by an untrusted CA
};

// Created on first use; the directory is removed at exit.
const TestPki& test_pki();

}  // namespace shardmq::test

#!/usr/bin/env bash
# make-test-pki.sh [DIR]: a TEST public-key infrastructure for Sektorbro, made with the openssl
# command line into DIR (default var/pki). Never use these keys in production: they are
# unencrypted and made by a script.
#
# Idempotent: a file that exists is kept, so running it again changes nothing (delete DIR to
# start over). Every key is ECDSA P-256 (fast to make, so tests can run this at test time).
#
# What it makes (NAME.pem is the certificate, NAME.key its private key):
#   ca.pem, ca.key                   the test CA ("Sektorbro Test CA"); ca.pem is the CA bundle for
#                                    tls.client_ca, outbound_tls.ca and the endpoints' own checks
#   broker.pem, broker.key           the broker's server certificate (CN sektorbro; SAN localhost,
#                                    127.0.0.1, ::1) for tls.certificate / tls.key
#   broker-client.pem, broker-client.key
#                                    the broker's client certificate (CN sektorbro-broker) that it
#                                    presents on deliveries: outbound_tls.certificate / .key
#   jc-aarhus, jc-odense, psy-risskov, psy-odense (.pem, .key)
#                                    the four demo endpoints, CN = endpoint id; usable as client
#                                    certificates (sending to the broker) and as server
#                                    certificates (receiving deliveries on localhost/127.0.0.1)
#   operator.pem, operator.key       an operator (CN operator-anna), client use only
#   expired-endpoint.pem, .key       CN jc-aarhus from the test CA, valid only in January 2020
#   other-ca.pem, other-ca.key       a second, unrelated CA
#   other-ca-endpoint.pem, .key      CN jc-aarhus, signed by the other CA (must be refused)
#
# The demo with mutual TLS (deploy/demo/sektorbro.json runs plain HTTP on loopback instead):
#   1. deploy/make-test-pki.sh var/pki
#   2. in the configuration, drop "allow_plain_http" from "listen" and add
#        "tls": {"certificate": "var/pki/broker.pem", "key": "var/pki/broker.key",
#                "client_ca": "var/pki/ca.pem", "require_client_certificate": true},
#        "outbound_tls": {"ca": "var/pki/ca.pem", "certificate": "var/pki/broker-client.pem",
#                         "key": "var/pki/broker-client.key"},
#      to each endpoint "client_certificate_cn": "<its id>" and an https:// url, and
#        "operators": [{"name": "anna", "role": "acting",
#                       "client_certificate_cn": "operator-anna"}]
#   3. endpoints then send with, e.g.,
#        curl --cacert var/pki/ca.pem --cert var/pki/jc-aarhus.pem --key var/pki/jc-aarhus.key \
#             -H 'Content-Type: application/xml' --data-binary @letter.xml \
#             https://127.0.0.1:8440/v1/messages
#      and the simulator's receivers serve with their endpoint's certificate.
set -euo pipefail

dir="${1:-var/pki}"
mkdir -p "$dir"
cd "$dir"
umask 077

endpoints=(jc-aarhus jc-odense psy-risskov psy-odense)

new_key() {  # new_key NAME: NAME.key unless it exists
  [ -s "$1.key" ] || openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
    -out "$1.key" 2>/dev/null
}

make_ca() {  # make_ca NAME SUBJECT
  new_key "$1"
  [ -s "$1.pem" ] || openssl req -x509 -new -key "$1.key" -sha256 -days 3650 -subj "$2" \
    -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" -out "$1.pem"
}

# issue NAME CN CA USAGE: a leaf certificate NAME.pem signed by CA, valid for two years.
# USAGE: server, client, or both (extendedKeyUsage; server use adds the loopback names).
issue() {
  local name="$1" cn="$2" ca="$3" usage="$4"
  [ -s "$name.pem" ] && return 0
  new_key "$name"
  local ext
  ext="$(mktemp)"
  {
    echo "basicConstraints=critical,CA:FALSE"
    echo "keyUsage=critical,digitalSignature"
    case "$usage" in
      server) echo "extendedKeyUsage=serverAuth" ;;
      client) echo "extendedKeyUsage=clientAuth" ;;
      both) echo "extendedKeyUsage=serverAuth,clientAuth" ;;
    esac
    if [ "$usage" != client ]; then
      echo "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1"
    fi
  } >"$ext"
  openssl req -new -key "$name.key" -subj "/O=Sektorbro Test/CN=$cn" -out "$name.csr"
  openssl x509 -req -in "$name.csr" -CA "$ca.pem" -CAkey "$ca.key" -CAcreateserial -sha256 \
    -days 730 -extfile "$ext" -out "$name.pem" 2>/dev/null
  rm -f "$name.csr" "$ext"
}

# An endpoint certificate that expired long ago. `openssl x509` cannot set a past start date in
# OpenSSL 3.0; `openssl ca` can, with a throw-away database.
issue_expired() {
  local name="$1" cn="$2"
  [ -s "$name.pem" ] && return 0
  new_key "$name"
  local work
  work="$(mktemp -d)"
  touch "$work/index.txt"
  echo 1000 >"$work/serial"
  cat >"$work/ca.cnf" <<CNF
[ca]
default_ca = test
[test]
database = $work/index.txt
serial = $work/serial
new_certs_dir = $work
certificate = ca.pem
private_key = ca.key
default_md = sha256
policy = any
unique_subject = no
copy_extensions = none
x509_extensions = leaf
[any]
organizationName = optional
commonName = supplied
[leaf]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth,clientAuth
CNF
  openssl req -new -key "$name.key" -subj "/O=Sektorbro Test/CN=$cn" -out "$work/req.csr"
  openssl ca -batch -config "$work/ca.cnf" -in "$work/req.csr" -out "$name.pem" -notext \
    -startdate 20200101000000Z -enddate 20200131000000Z 2>/dev/null
  rm -rf "$work"
}

make_ca ca "/O=Sektorbro Test/CN=Sektorbro Test CA"
issue broker sektorbro ca server
issue broker-client sektorbro-broker ca client
for e in "${endpoints[@]}"; do issue "$e" "$e" ca both; done
issue operator operator-anna ca client
issue_expired expired-endpoint jc-aarhus
make_ca other-ca "/O=Someone Else/CN=Other Test CA"
issue other-ca-endpoint jc-aarhus other-ca both

# Certificates are public; keys stay private (umask 077 above).
chmod 644 ./*.pem
echo "test PKI in $(pwd)"

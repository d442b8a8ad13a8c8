# Sourced by shell tests that need TLS (with `dir` set to their scratch directory): a throwaway certificate
# authority made with the openssl command, and certificates it signs.
#   make_ca                      -> $dir/ca.pem (and ca.key)
#   make_certificate NAME EXT    -> $dir/NAME.pem, $dir/NAME.key, and $dir/NAME-keystore.pem (key then chain, the
#                                   PEM key store Kafka's ssl.keystore.type=PEM and Fjord read)
make_ca() {
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj /CN=fjord-test-ca \
    -keyout "$dir/ca.key" -out "$dir/ca.pem" 2> /dev/null
}
make_certificate() {
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "/CN=$1" -keyout "$dir/$1.key" \
    -out "$dir/$1.csr" 2> /dev/null
  printf '%s\n' "$2" > "$dir/$1.ext"
  openssl x509 -req -days 2 -in "$dir/$1.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" -CAcreateserial \
    -extfile "$dir/$1.ext" -out "$dir/$1.pem" 2> /dev/null
  cat "$dir/$1.key" "$dir/$1.pem" > "$dir/$1-keystore.pem"
}

# Sourced by tests/java_*_test.sh, which set `here` to tests/ and `dir` to their scratch directory: loopback ports,
# and the Java client's checks (tests/java/src/main/java) compiled against the classpath tests/java/pom.xml
# resolves from Maven Central.
free_port() { python3 "$here/support/ports.py" --owner $$; }
wait_port() { for _ in $(seq 200); do (echo > "/dev/tcp/127.0.0.1/$1") 2>/dev/null && return; sleep 0.05; done; }
# compile_checks CLASS...: the classpath into $dir/classpath, each check into $dir/classes.
compile_checks() {
  mvn -B -q -f "$here/java/pom.xml" dependency:build-classpath -Dmdep.outputFile="$dir/classpath" > "$dir/mvn.log" 2>&1 \
    || { cat "$dir/mvn.log"; return 1; }
  mkdir -p "$dir/classes"
  # -sourcepath: a check compiles the helpers it uses (GroupMember.java) with it.
  for check in "$@"; do
    javac -d "$dir/classes" -cp "$(cat "$dir/classpath")" -sourcepath "$here/java/src/main/java" \
      "$here/java/src/main/java/$check.java"
  done
}
# run_check CLASS ARGS...: a compiled check, the client logging at $java_log_level (warn unless set).
run_check() {
  java -cp "$dir/classes:$(cat "$dir/classpath")" -Dorg.slf4j.simpleLogger.defaultLogLevel="${java_log_level:-warn}" "$@"
}

// Placeholder: shardmq-passwd, filled in by issue 11 work.
int main() { return 0; }

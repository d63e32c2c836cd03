// Readiness probe used by scripts/kafka-local. Started right after the broker
// (so the two JVMs warm up in parallel), it polls (1) until the listener accepts
// a TCP connection, then (2) with Kafka's own AdminClient until the broker
// answers Metadata (describeCluster + listTopics), or a deadline passes.
// Compiled once per Kafka version against the cached jars.
//
//   java -cp "$LIBS/*:$PROBE_DIR" KafkaReady 127.0.0.1:19092 60000
//
// Exit 0 and one line "ready ..." on success, exit 1 on timeout.

import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Duration;
import java.util.Properties;
import java.util.concurrent.TimeUnit;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.DescribeClusterResult;
import org.apache.kafka.clients.admin.ListTopicsOptions;

public final class KafkaReady {
    public static void main(String[] args) throws Exception {
        if (args.length != 2) {
            System.err.println("usage: KafkaReady HOST:PORT DEADLINE_MS");
            System.exit(2);
        }
        String bootstrap = args[0];
        long start = System.nanoTime();
        long deadline = start + TimeUnit.MILLISECONDS.toNanos(Long.parseLong(args[1]));

        int colon = bootstrap.lastIndexOf(':');
        InetSocketAddress addr = new InetSocketAddress(bootstrap.substring(0, colon),
                Integer.parseInt(bootstrap.substring(colon + 1)));
        while (true) {
            try (Socket s = new Socket()) {
                s.connect(addr, 500);
                break;
            } catch (java.io.IOException e) {
                if (System.nanoTime() >= deadline) {
                    System.err.println("port not open before deadline: " + e.getMessage());
                    System.exit(1);
                }
                Thread.sleep(100);
            }
        }
        long portOpenMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);

        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(AdminClientConfig.CLIENT_ID_CONFIG, "sagasim-kafka-ready");
        p.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, "2000");
        p.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "3000");
        p.put(AdminClientConfig.RECONNECT_BACKOFF_MS_CONFIG, "100");
        p.put(AdminClientConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, "250");
        p.put(AdminClientConfig.RETRY_BACKOFF_MS_CONFIG, "100");

        String last = "no attempt";
        Admin admin = Admin.create(p);
        try {
            while (System.nanoTime() < deadline) {
                try {
                    DescribeClusterResult c = admin.describeCluster();
                    String clusterId = c.clusterId().get(3, TimeUnit.SECONDS);
                    int nodes = c.nodes().get(3, TimeUnit.SECONDS).size();
                    int topics = admin.listTopics(new ListTopicsOptions().listInternal(true))
                            .names().get(3, TimeUnit.SECONDS).size();
                    if (nodes > 0) {
                        System.out.println("ready cluster_id=" + clusterId + " nodes=" + nodes
                                + " topics=" + topics + " port_open_ms=" + portOpenMs + " metadata_ms="
                                + TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start));
                        return;
                    }
                    last = "metadata has no brokers yet";
                } catch (Exception e) {
                    Throwable t = e.getCause() != null ? e.getCause() : e;
                    last = t.getClass().getSimpleName() + ": " + t.getMessage();
                }
                Thread.sleep(200);
            }
        } finally {
            admin.close(Duration.ofSeconds(2));
        }
        System.err.println("not ready before deadline: " + last);
        System.exit(1);
    }
}

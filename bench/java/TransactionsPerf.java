// W4 for the Java producer (`npm run bench`): Kafka's ProducerPerformance can only bound transactions by
// time (--transaction-duration-ms), not by record count, so this single-file program does what W4 asks:
// initTransactions(), then per transaction beginTransaction(), `txn-size` keyed send() calls,
// commitTransaction(). Run with the JDK's source launcher, no build step:
//
//   java -cp '<kafka libs>/*' bench/java/TransactionsPerf.java --bootstrap-servers host:port --topic t
//     --transactions 2000 --txn-size 50 --payload-file payloads-100.txt --transactional-id bench-java-1
//     [--acks all] [--compression lz4] [--linger-ms 5]
//
// Keys are key-<i mod 10000> and values payloads[i mod n] (the harness's payload file, one value per
// line), i counting records across transactions, as in the Node runners. One warm-up transaction with
// a single record runs before the timing. Output (stdout), parsed by bench/run.ts:
//   PROGRESS <records done>                       at most every 250 ms
//   TXN_LATENCIES_MS <ms>,<ms>,...                one value per committed transaction (begin -> commit)
//   TXN_SUMMARY transactions=N committed=N failed=N delivered=N errors=N elapsed_ms=X first_error=...

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.errors.AuthorizationException;
import org.apache.kafka.common.errors.OutOfOrderSequenceException;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.serialization.ByteArraySerializer;

public class TransactionsPerf {
    private static final int MAX_FAILED_IN_A_ROW = 5;

    public static void main(String[] argv) throws Exception {
        Map<String, String> args = parseArgs(argv);
        String topic = required(args, "topic");
        int transactions = Integer.parseInt(required(args, "transactions"));
        int txnSize = Integer.parseInt(required(args, "txn-size"));
        List<byte[]> payloads = readPayloads(required(args, "payload-file"));

        Properties props = new Properties();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, required(args, "bootstrap-servers"));
        props.put(ProducerConfig.CLIENT_ID_CONFIG, "bench-java");
        props.put(ProducerConfig.ACKS_CONFIG, args.getOrDefault("acks", "all"));
        props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        props.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, args.getOrDefault("compression", "none"));
        props.put(ProducerConfig.LINGER_MS_CONFIG, args.getOrDefault("linger-ms", "5"));
        props.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, required(args, "transactional-id"));
        props.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        props.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());

        double[] latencies = new double[transactions];
        int committed = 0;
        int failed = 0;
        long delivered = 0;
        long errors = 0;
        String firstError = null;
        AtomicReference<String> firstSendError = new AtomicReference<>();
        long start;
        long end;
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(props)) {
            producer.initTransactions();
            // Warm-up: metadata, connections, coordinator; not timed.
            producer.beginTransaction();
            producer.send(new ProducerRecord<>(topic, bytes("warmup"), payloads.get(0)));
            producer.commitTransaction();

            start = System.nanoTime();
            end = start;
            long lastProgress = 0;
            int failedInARow = 0;
            for (int t = 0; t < transactions; t++) {
                long t0 = System.nanoTime();
                try {
                    producer.beginTransaction();
                    for (int k = 0; k < txnSize; k++) {
                        long i = (long) t * txnSize + k;
                        producer.send(
                                new ProducerRecord<>(topic, bytes("key-" + (i % 10000)), payloads.get((int) (i % payloads.size()))),
                                (metadata, e) -> {
                                    if (e != null) firstSendError.compareAndSet(null, e.toString());
                                });
                    }
                    producer.commitTransaction();
                    end = System.nanoTime();
                    latencies[committed++] = (end - t0) / 1e6;
                    delivered += txnSize;
                    failedInARow = 0;
                } catch (ProducerFencedException | OutOfOrderSequenceException | AuthorizationException e) {
                    // Fatal for this producer: nothing later can succeed.
                    end = System.nanoTime();
                    if (firstError == null) firstError = e.toString();
                    failed++;
                    errors += txnSize;
                    break;
                } catch (KafkaException e) {
                    end = System.nanoTime();
                    if (firstError == null) firstError = e.toString();
                    failed++;
                    errors += txnSize;
                    try {
                        producer.abortTransaction();
                    } catch (KafkaException ignored) {
                        // reported through the commit error
                    }
                    if (++failedInARow >= MAX_FAILED_IN_A_ROW) break;
                }
                long now = System.nanoTime();
                if (now - lastProgress >= 250_000_000L) {
                    lastProgress = now;
                    System.out.println("PROGRESS " + (delivered + errors));
                    System.out.flush();
                }
            }
        }
        if (firstError == null) firstError = firstSendError.get();

        StringBuilder sb = new StringBuilder("TXN_LATENCIES_MS ");
        for (int i = 0; i < committed; i++) {
            if (i > 0) sb.append(',');
            sb.append(String.format(Locale.ROOT, "%.3f", latencies[i]));
        }
        System.out.println(sb);
        System.out.println(String.format(Locale.ROOT,
                "TXN_SUMMARY transactions=%d committed=%d failed=%d delivered=%d errors=%d elapsed_ms=%.3f first_error=%s",
                transactions, committed, failed, delivered, errors, (end - start) / 1e6,
                firstError == null ? "" : firstError.replace('\n', ' ')));
        System.out.flush();
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    /** The harness's payload file: one value per line (as ProducerPerformance --payload-file reads it). */
    private static List<byte[]> readPayloads(String file) throws Exception {
        byte[] all = Files.readAllBytes(Paths.get(file));
        List<byte[]> out = new ArrayList<>();
        int from = 0;
        for (int i = 0; i <= all.length; i++) {
            if (i == all.length || all[i] == '\n') {
                if (i > from) {
                    byte[] b = new byte[i - from];
                    System.arraycopy(all, from, b, 0, b.length);
                    out.add(b);
                }
                from = i + 1;
            }
        }
        if (out.isEmpty()) throw new IllegalArgumentException("no payloads in " + file);
        return out;
    }

    private static Map<String, String> parseArgs(String[] argv) {
        Map<String, String> out = new HashMap<>();
        for (int i = 0; i < argv.length; i++) {
            if (!argv[i].startsWith("--") || i + 1 >= argv.length)
                throw new IllegalArgumentException("expected --name value pairs, got " + argv[i]);
            out.put(argv[i].substring(2), argv[++i]);
        }
        return out;
    }

    private static String required(Map<String, String> args, String name) {
        String v = args.get(name);
        if (v == null) throw new IllegalArgumentException("--" + name + " is required");
        return v;
    }
}

#!/usr/bin/env bash
# Fails when C code calls a libc function this project bans: the ones that
# cannot be told the size of their destination (sprintf, strcpy, strcat,
# gets ...), that report errors badly (atoi and friends: use mr_parse_i64),
# that keep hidden state (strtok), or that invite races and injection
# (tmpnam, mktemp, system, popen). alloca is banned because a client-sized
# stack allocation is an unbounded buffer. The bounded forms (snprintf,
# memcpy with a checked length, struct mr_buf) are the replacements.
#
# Comments and string or character literals are blanked before matching,
# keeping line numbers, so "do not call strcpy()" in a comment is not a hit.
# A hit is the whole word followed (after optional blanks) by '('.
#
# usage: scripts/banned-calls.sh [DIR_OR_FILE ...]   (default: src tests/unit)
# Prints file:line:call for each hit and exits 1 if there was any.
set -euo pipefail
cd "$(dirname "$0")/.."

banned='sprintf|vsprintf|strcpy|strcat|strncpy|strncat|strtok|gets|atoi|atol|atoll|atof|tmpnam|mktemp|alloca|system|popen'

if [ $# -eq 0 ]; then
	set -- src tests/unit
fi

files=()
for top in "$@"; do
	if [ -d "$top" ]; then
		while IFS= read -r -d '' f; do
			files+=("$f")
		done < <(find "$top" -type f \( -name '*.c' -o -name '*.h' \) -print0 | sort -z)
	elif [ -f "$top" ]; then
		files+=("$top")
	fi
done

if [ ${#files[@]} -eq 0 ]; then
	echo "banned-calls: no C files under $*"
	exit 0
fi

# One perl pass over every file: strip comments and literals, then report.
BANNED="$banned" perl -e '
	my $banned = $ENV{BANNED};
	my $hits = 0;
	for my $file (@ARGV) {
		open(my $fh, "<", $file) or die "banned-calls: $file: $!\n";
		local $/;
		my $src = <$fh>;
		close($fh);
		# Blank comments and literals but keep their newlines, so line numbers hold.
		$src =~ s{
			(/\*.*?\*/)              # block comment
			| (//[^\n]*)             # line comment
			| ("(?:\\.|[^"\\\n])*")  # string literal
			| (\x27(?:\\.|[^\x27\\\n])*\x27)  # character literal
		}{ my $m = $&; $m =~ s/[^\n]/ /g; $m }gsex;
		my $line = 0;
		for my $text (split(/\n/, $src, -1)) {
			$line++;
			while ($text =~ /(?<![A-Za-z0-9_.])(?<!->)($banned)\s*\(/g) {
				print "$file:$line:$1\n";
				$hits++;
			}
		}
	}
	if ($hits) {
		print STDERR "banned-calls: $hits call(s) to banned functions; use snprintf, struct mr_buf, memcpy with a checked length, mr_parse_i64, mkstemp\n";
		exit 1;
	}
	printf "banned-calls: ok (%d files)\n", scalar(@ARGV);
' "${files[@]}"

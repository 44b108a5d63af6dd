#!/usr/bin/perl
# Writes a small MaxMind-format database for tests, in the layout of the
# GeoLite2/DB-IP Lite ASN and country databases (both in one file):
#   make_mmdb.pl OUT.mmdb CIDR ASN ORG CC [CIDR ASN ORG CC ...]
# ASN, ORG or CC "-" leaves that field out (to test partial databases).
# Reserved ranges (198.18.0.0/15, 192.0.2.0/24, 2001:db8::/32) are kept:
# the lab and the tests use them.
use strict;
use warnings;
use MaxMind::DB::Writer::Tree;

my $out = shift @ARGV or die "usage: make_mmdb.pl OUT.mmdb CIDR ASN ORG CC ...\n";
die "make_mmdb.pl: entries come in fours (CIDR ASN ORG CC)\n" if @ARGV % 4;

my %types = (
  autonomous_system_number       => 'uint32',
  autonomous_system_organization => 'utf8_string',
  country                        => 'map',
  iso_code                       => 'utf8_string',
);
my $tree = MaxMind::DB::Writer::Tree->new(
  ip_version               => 6,
  record_size              => 24,
  database_type            => 'Vantage-Test-ASN-Country',
  languages                => ['en'],
  description              => { en => 'Vantage test database' },
  map_key_type_callback    => sub { $types{ $_[0] } },
  remove_reserved_networks => 0,
);
while (@ARGV) {
  my ($cidr, $asn, $org, $cc) = splice @ARGV, 0, 4;
  my %data;
  $data{autonomous_system_number}       = $asn + 0 if $asn ne '-';
  $data{autonomous_system_organization} = $org if $org ne '-';
  $data{country}                        = { iso_code => $cc } if $cc ne '-';
  $tree->insert_network($cidr, \%data);
}
open my $fh, '>:raw', $out or die "make_mmdb.pl: $out: $!\n";
$tree->write_tree($fh);
close $fh or die "make_mmdb.pl: $out: $!\n";

language-name = Français
skip-to-content = Aller au contenu
nav-label = Menu principal
nav-dashboard = Tableau de bord
nav-intel = Renseignement
nav-requests = Demandes
nav-sessions = Mes sessions
pref-language = Langue
pref-time-zone = Fuseau horaire
pref-apply = Appliquer
sign-out = Se déconnecter
yes = Oui
no = Non

error-back = Retour au tableau de bord
error-too-large = Le formulaire est trop volumineux.
error-csrf = Ce formulaire a expiré ou ne provient pas de ce site. Rechargez la page et réessayez.
error-forbidden = Vous n'êtes pas autorisé à faire ceci.
error-not-found = Introuvable.
error-throttled = Trop de tentatives. Attendez une minute et réessayez.
error-invalid = La requête n'est pas valide.
error-internal = Une erreur s'est produite sur le serveur. L'incident a été journalisé.
error-busy = Trop de personnes sont connectées. Réessayez plus tard.
error-language = Cette langue n'est pas disponible.
error-time-zone = Fuseau horaire inconnu : utilisez un nom comme Europe/Paris ou UTC.

signin-title = Connexion
signin-name = Nom d'utilisateur
signin-password = Mot de passe
signin-submit = Se connecter
signin-failed = Nom d'utilisateur ou mot de passe incorrect.
signin-throttled = Trop d'échecs. Attendez une minute avant de réessayer.

sessions-title = Mes sessions
sessions-count = { $count ->
    [one] Vous avez une session ouverte.
   *[other] Vous avez { $count } sessions ouvertes.
}
sessions-since = Connexion
sessions-browser = Navigateur
sessions-action = Action
sessions-current = celle-ci
sessions-revoke = Fermer cette session

dashboard-title = Tableau de bord
dashboard-waiting = Demandes en attente de notre action
dashboard-waiting-count = { $count ->
    [0] Aucune demande n'attend notre action.
    [one] Une demande attend notre action.
   *[other] { $count } demandes attendent notre action.
}
dashboard-proposals = Propositions soumises au vote
dashboard-proposals-count = { $count ->
    [0] Aucune proposition n'est soumise au vote.
    [one] Une proposition est soumise au vote.
   *[other] { $count } propositions sont soumises au vote.
}
dashboard-recent = Nouveau renseignement cette semaine
dashboard-recent-none = Rien de nouveau cette semaine que vous puissiez lire.
dashboard-log = Journal de transparence
dashboard-log-none = Le journal n'a pas encore de point de contrôle.
dashboard-cosignatures = { $count ->
    [0] Aucun pair n'a encore cosigné ce point de contrôle.
    [one] Cosigné par un pair.
   *[other] Cosigné par { $count } pairs.
}

intel-title = Renseignement
intel-none = Vous ne pouvez lire aucune collection.
intel-filter-type = Type d'objet
intel-filter = Filtrer
intel-empty = Aucun objet à afficher.
intel-objects = Objets
intel-next = Page suivante

object-type = Type
object-name = Nom
object-id = Identifiant
object-markings = Marquages
object-version = Version
object-back = Retour à la collection
object-no-tlp = Aucun marquage TLP
object-versions = { $count ->
    [one] Une version
   *[other] { $count } versions
}
object-json = JSON STIX
object-who-else = Qui d'autre l'a vu
object-who-else-no-values = Cet objet ne contient aucune valeur observable à rechercher.
object-who-else-suppressed = Sur une liste d'avertissement, non corrélée :
object-who-else-count = { $count ->
    [0] Aucun autre objet que vous pouvez lire ne la contient.
    [one] Un autre objet que vous pouvez lire la contient
   *[other] { $count } autres objets que vous pouvez lire la contiennent
}
object-who-else-members = { $count ->
    [one] (un membre).
   *[other] ({ $count } membres).
}

tlp-clear = TLP:CLEAR : diffusion non limitée.
tlp-green = TLP:GREEN : diffusion limitée, au sein de la communauté.
tlp-amber = TLP:AMBER : diffusion limitée à l'organisation du destinataire et à ses clients.
tlp-amber-strict = TLP:AMBER+STRICT : diffusion limitée à l'organisation du destinataire.
tlp-red = TLP:RED : réservé aux seuls destinataires, à titre individuel.
handling-h0 = À des fins répressives uniquement.
handling-h1 = Pas de procédure judiciaire sans l'accord de l'émetteur.
handling-h2 = Pas de diffusion ultérieure sans l'accord de l'émetteur.
handling-h3 = Autres restrictions, précisées dans le texte.

requests-title = Demandes de coopération
requests-new = Rédiger une nouvelle demande
requests-inbox = Reçues : demandes qui nous sont adressées
requests-outbox = Envoyées : nos demandes
requests-count = { $count ->
    [0] Aucune demande.
    [one] Une demande.
   *[other] { $count } demandes.
}

request-id = Identifiant
request-kind = Nature
request-partner = Partenaire
request-requester = Membre requérant
request-requested = Membre requis
request-state = État
request-due = Échéance (votre heure)
request-due-partner = Échéance (heure du partenaire)
request-emergency = Urgence
request-overdue = En retard
request-acts = Ce que vous pouvez faire
request-reason = Motif
request-until = Conservé jusqu'au (RFC 3339)
request-link = Demande de suivi
request-conditions = Conditions
request-note = Note
request-timeline = Historique signé
request-at = Le
request-by = par
request-signature = Signature
request-document = Document de la demande

draft-title = Nouvelle demande
draft-choose = Choisir
draft-to = Membre requis (identity--…)
draft-emergency = Urgence (risque imminent pour la vie ou la sécurité)
draft-emergency-justification = Justification de l'urgence
draft-source = Exigé par
draft-save = Enregistrer le brouillon

kind-assistance = Assistance (réseau 24/7)
kind-preservation = Conservation rapide
kind-disclosure = Divulgation rapide de données relatives au trafic
kind-production = Injonction de production
kind-mla = Entraide judiciaire

field-authority-name = Autorité requérante
field-authority-contact = Contact de l'autorité
field-authority-time-zone = Fuseau horaire de l'autorité
field-legal-basis-instrument = Instrument juridique
field-summary = Résumé des faits
field-offence = Infraction
field-details-incident = Incident
field-details-help-sought = Aide demandée
field-details-data = Données à conserver
field-details-relation-to-offence = Lien des données avec l'infraction
field-details-custodian = Détenteur des données
field-details-necessity = Nécessité de la conservation
field-details-mla-to-follow = Une demande d'entraide suivra
field-details-preservation = Conservation à laquelle elle fait suite
field-details-communication = Communication concernée
field-details-categories = Catégories de données (séparées par des virgules)
field-details-time-range-from = Du
field-details-time-range-to = Au
field-details-time-range-time-zone = Fuseau horaire de la période
field-details-addressee = Fournisseur de services destinataire
field-details-purpose = Objet de la demande
field-details-assistance-sought = Entraide demandée
field-details-laws = Droit applicable
field-details-proceedings = Procédure concernée

state-draft = Brouillon
state-submitted = Envoyée
state-delivered = Reçue
state-acknowledged = Accusé de réception
state-under-review = En examen
state-info-requested = Informations demandées
state-accepted = Acceptée
state-accepted-with-conditions = Acceptée sous conditions
state-postponed = Ajournée
state-refused = Refusée
state-in-execution = En exécution
state-partially-executed = Partiellement exécutée
state-executed = Exécutée
state-closed = Close
state-preserved = Données conservées
state-extended = Prolongée
state-linked = Liée
state-lapsed = Expirée
state-released = Données libérées
state-withdrawn = Retirée

act-submit = Signer et envoyer
act-deliver = Reçue
act-retrieve = Ouverte
act-acknowledge = Accuser réception
act-review = Commencer l'examen
act-request-info = Demander des informations
act-supply-info = Fournir des informations
act-accept = Accepter
act-accept-with-conditions = Accepter sous conditions
act-accept-conditions = Accepter les conditions
act-postpone = Ajourner
act-resume = Reprendre
act-refuse = Refuser
act-execute = Commencer l'exécution
act-execute-partially = Livrer en partie
act-complete = Terminer
act-close = Clore
act-preserve = Confirmer la conservation
act-extend = Prolonger la conservation
act-link = Lier la demande de suivi
act-lapse = Constater l'expiration
act-release = Libérer les données
act-withdraw = Retirer

reason-essential-interests = Intérêts essentiels (souveraineté, sécurité, ordre public)
reason-political-offence = Infraction politique
reason-dual-criminality = Double incrimination non remplie
reason-immunity = Immunités ou privilèges
reason-fundamental-rights = Droits fondamentaux
reason-ne-bis-in-idem = Ne bis in idem
reason-incomplete = Demande incomplète ou manifestement erronée
reason-data-not-held = Données non détenues
reason-impossible = Exécution impossible
reason-other = Autre motif (dans la note)

nav-governance = Gouvernance
nav-members = Membres
governance-title = Propositions
governance-proposals = Propositions, les plus récentes d'abord
governance-count = { $count ->
    [0] Aucune proposition n'a été déposée.
    [one] Une proposition.
   *[other] { $count } propositions.
}
governance-back = Retour aux propositions
norms-title = Normes et règles
norms-registry = Registre des normes
norms-count = { $count ->
    [0] Aucune norme n'a été adoptée.
    [one] Une version de norme.
   *[other] { $count } versions de normes.
}
norm-version = version { $count }
norm-repealed = Abrogée
norm-in-force = En vigueur
norm-decided = Décidée par
norm-founded = Adoptée à la fondation, par le document de genèse
norm-id = Norme
rules-title = Règles en vigueur
rules-voting-delay = Délai avant l'ouverture du vote
rules-voting-period = Durée du vote
rules-execution-window = Délai d'exécution
rules-quorum = Quorum (part des membres actifs)
rules-abstentions = Les abstentions comptent pour le quorum
rules-kinds = Ce qu'exige chaque type de proposition
rules-sponsors = Parrains requis
duration-days = { $count ->
    [one] { $count } jour
   *[other] { $count } jours
}
duration-hours = { $count ->
    [one] { $count } heure
   *[other] { $count } heures
}
duration-minutes = { $count ->
    [one] { $count } minute
   *[other] { $count } minutes
}
duration-seconds = { $count ->
    [one] { $count } seconde
   *[other] { $count } secondes
}
proposal-kind = Type
proposal-state = État
proposal-proposer = Proposée par
proposal-window = Période de vote
proposal-tally = Décompte
proposal-id = Identifiant
proposal-sponsors = Parrains
proposal-effect = Ce qu'elle ferait
proposal-member = Membre
proposal-timeline = Chronologie
proposal-tabled = Déposée
proposal-voting-starts = Ouverture du vote
proposal-deadline = Clôture du vote
proposal-execution-ends = Fin du délai d'exécution
proposal-vote = Voter pour notre membre
proposal-vote-legend = Bulletin de notre membre (un bulletin ultérieur le remplace jusqu'à la clôture)
proposal-vote-submit = Signer et déposer le bulletin
proposal-cancel = Annuler cette proposition
proposal-cancel-explain = Notre membre l'a déposée et le vote n'est pas ouvert : l'annulation est signée et envoyée à chaque membre, et aucun bulletin ne comptera.
proposal-cancel-submit = Signer et envoyer l'annulation
proposal-result = Résultat
proposal-result-so-far = Résultat provisoire (jusqu'à la clôture)
proposal-quorum = Quorum
proposal-majority = Majorité
proposal-met = atteint
proposal-not-met = non atteint
proposal-digest = Empreinte du résultat
proposal-not-executed = La proposition a été adoptée, mais son effet n'a pas pu s'appliquer sur ce nœud (voir le journal du nœud).
proposal-ballots = Bulletins comptés
proposal-ballots-count = { $count ->
    [0] Aucun bulletin compté pour l'instant.
    [one] Un bulletin compté.
   *[other] { $count } bulletins comptés.
}
proposal-choice = Vote
proposal-refused = Bulletins refusés
proposal-reason = Motif
proposal-kind-admit-member = Admission d'un membre
proposal-does-admit-member = Admet un nouveau membre avec la clé de son nœud et son pays.
proposal-kind-suspend-member = Suspension d'un membre
proposal-does-suspend-member = Suspend un membre actif.
proposal-kind-reinstate-member = Réintégration d'un membre
proposal-does-reinstate-member = Réintègre un membre suspendu.
proposal-kind-expel-member = Exclusion d'un membre
proposal-does-expel-member = Exclut un membre.
proposal-kind-adopt-norm = Adoption d'une norme
proposal-does-adopt-norm = Adopte une norme avec les textes ci-dessous.
proposal-kind-amend-norm = Modification d'une norme
proposal-does-amend-norm = Remplace les textes d'une norme adoptée par ceux ci-dessous.
proposal-kind-repeal-norm = Abrogation d'une norme
proposal-does-repeal-norm = Abroge une norme adoptée.
proposal-kind-change-rules = Modification des règles
proposal-does-change-rules = Met en vigueur les règles ci-dessous.
proposal-kind-joint-statement = Déclaration commune
proposal-does-joint-statement = Adopte une déclaration commune, signée par les membres qui votent pour.
proposal-kind-revoke-member-key = Révocation des clés d'un membre
proposal-does-revoke-member-key = Révoque toutes les clés d'un membre utilisées à partir du moment ci-dessous (y compris celle d'un voleur qui l'aurait remplacée le premier) et épingle les nouvelles clés fournies par le membre par un autre canal. Le membre concerné vote comme les autres, et son seul vote ne suffit jamais.
proposal-revoked-from = Clés révoquées à partir du
proposal-encryption-key = Clé de chiffrement
proposal-state-pending = En attente
proposal-state-active = Vote ouvert
proposal-state-canceled = Annulée
proposal-state-defeated = Rejetée
proposal-state-succeeded = Adoptée
proposal-state-executed = Exécutée
proposal-state-expired = Expirée
choice-yes = Pour
choice-no = Contre
choice-abstain = Abstention
decision-succeeded = Adoptée
decision-defeated = Rejetée
decision-so-far-succeeded = Adoptée à ce stade
decision-so-far-defeated = Rejetée à ce stade
refusal-malformed = Bulletin illisible
refusal-other-proposal = Bulletin d'une autre proposition
refusal-unknown-member = Non-membre au dépôt
refusal-suspended = Suspendu au dépôt
refusal-bad-signature = Signature invalide
refusal-early = Déposé avant l'ouverture
refusal-late = Déposé après la clôture
refusal-replayed = Même bulletin reçu de nouveau
refusal-superseded = Remplacé par un bulletin ultérieur
refusal-equivocation = Bulletins contradictoires d'un même membre
members-title = Membres et accords
members-directory = Annuaire des membres
members-count = { $count ->
    [0] Aucun membre n'est inscrit.
    [one] Un membre.
   *[other] { $count } membres.
}
member-name = Nom
member-country = Pays
member-roles = Rôles
member-status = Statut
member-endpoint = Adresse du nœud
member-fingerprint = Empreinte de la clé
member-key = Clé du nœud
member-local = ce nœud
member-role-cert = CERT/CSIRT national
member-role-police = Unité cyber de police
member-role-judicial = Autorité judiciaire
member-role-central-authority = Autorité centrale
member-status-active = Actif
member-status-suspended = Suspendu
agreements-title = Accords de partage
agreements-count = { $count ->
    [0] Aucun accord pour l'instant.
    [one] Un accord.
   *[other] { $count } accords.
}
agreement-id = Identifiant
agreement-parties = Parties
agreement-missing = Signature attendue de
agreement-types = Types d'objets
agreement-max-tlp = TLP le plus restrictif
agreement-handling = Codes de traitement respectés
agreement-purposes = Finalités
agreement-valid = En vigueur
agreement-no-end = sans terme
agreement-status-proposed = Proposé
agreement-status-active = Actif
agreement-status-suspended = Suspendu
agreement-status-terminated = Résilié

propose-title = Déposer une proposition
propose-norm = Identifiant de la norme
propose-norm-hint = Jusqu'à 64 lettres, chiffres, « . », « _ » ou « - », par exemple gge-2015-13f ; pour une modification ou une abrogation, l'identifiant d'une norme en vigueur.
propose-texts = Texte de la proposition
propose-texts-hint = { $count ->
    [one] Rédigez-le dans une langue au moins, { $count } caractère au plus dans chacune ; laissez les autres langues vides.
   *[other] Rédigez-le dans une langue au moins, { $count } caractères au plus dans chacune ; laissez les autres langues vides.
}
propose-no-member = Aucun membre ne peut faire l'objet de ce type de proposition pour le moment.
propose-record = Fichier de fiche du membre
propose-record-hint = Collez le fichier écrit par le nœud du candidat (comity member show-local --out FICHIER) : sa signature est vérifiée avec la clé qu'il porte, à confirmer avec le candidat par un autre canal.
propose-rules = Nouvelles règles (JSON)
propose-rules-hint = Les règles en vigueur, à modifier pour obtenir les règles proposées : durées en secondes, parts en fractions comme 2/3.
propose-revoked-from-hint = Le début de la compromission, en heure RFC 3339 comme 2026-12-01T00:00:00Z : ce que les clés du membre ont signé depuis ne vaut plus rien.
propose-keys-hint = La nouvelle clé d'identité et la clé de chiffrement, telles que le nœud du membre les a affichées (comity key prepare) ; confirmez-les avec le membre par un autre canal.
propose-sponsors-needed = { $count ->
    [0] Ce type de proposition ne demande aucun parrain.
    [one] Ce type de proposition demande un parrain en plus de notre membre.
   *[other] Ce type de proposition demande { $count } parrains en plus de notre membre.
}
propose-no-sponsor = Aucun autre membre actif ne peut la parrainer.
propose-too-few-sponsors = Moins de membres peuvent la parrainer que ne le demandent les règles en vigueur : le nœud la refusera.
propose-explain = Le dépôt signe la proposition au nom de notre membre et l'envoie à chaque membre actif. Elle peut être annulée jusqu'à l'ouverture du vote.
propose-submit = Signer et déposer la proposition
error-propose-text-long = { $count ->
    [one] Un texte compte au plus { $count } caractère.
   *[other] Un texte compte au plus { $count } caractères.
}
error-propose-text-empty = Rédigez le texte dans une langue au moins.
error-propose-norm-empty = Indiquez l'identifiant de la norme.
error-propose-member-empty = Choisissez le membre visé par la proposition.
error-propose-member-unknown = Ce membre ne figure pas dans l'annuaire des membres.
error-propose-sponsor-unknown = Un parrain ne figure pas dans l'annuaire des membres.
error-propose-record-empty = Collez le fichier de fiche du membre candidat.
error-propose-record = Le fichier de fiche du membre est refusé.
error-propose-rules-empty = Indiquez les règles à mettre en vigueur.
error-propose-rules = Ces règles ne peuvent pas être lues.
error-propose-revoked-from = Donnez l'heure au format RFC 3339, comme 2026-12-01T00:00:00Z.
error-propose-key-empty = Donnez la nouvelle clé d'identité et la clé de chiffrement du membre.
error-propose-key = Une clé est refusée.
error-propose-refused = Le nœud a refusé de déposer cette proposition.

nav-tokens = Jetons d'API
nav-admin = Administration
tokens-title = Jetons d'API
tokens-explain = Un jeton d'API permet à un programme (un client TAXII, un capteur, un script) d'agir en votre nom par l'API du nœud, avec votre rôle, jusqu'à son expiration ou sa révocation.
tokens-mine = Vos jetons
tokens-all = Tous les jetons de ce nœud
tokens-count = { $count ->
    [0] Aucun jeton.
    [one] Un jeton.
   *[other] { $count } jetons.
}
tokens-back = Retour aux jetons d'API
token-label = Libellé
token-id = Identifiant
token-holder = Titulaire
token-for-member = membre pair
token-created = Créé le
token-expires = Expire le
token-never = jamais
token-state = État
token-action = Action
token-state-active = Actif
token-state-expired = Expiré
token-state-revoked = Révoqué
token-revoke = Révoquer
token-new = Nouveau jeton
token-label-hint = { $count ->
    [one] Son usage, par exemple « synchronisation MISP » : { $count } caractère au plus.
   *[other] Son usage, par exemple « synchronisation MISP » : { $count } caractères au plus.
}
token-days = Jours avant expiration
token-days-hint = { $count ->
    [one] De 1 à { $count } jour.
   *[other] De 1 à { $count } jours.
}
token-member = Le délivrer à un membre pair
token-member-hint = Le jeton d'un membre pair ne lit que les vues de politique faites pour ce membre.
token-member-none = Non : un jeton pour moi
token-create-explain = Le jeton est affiché une seule fois, à la page suivante ; le nœud n'en garde que l'empreinte.
token-create = Créer le jeton
token-created-title = Jeton créé
token-secret = Le jeton
token-use = Les programmes l'envoient dans un en-tête :
secret-once = Copiez-le maintenant : il est affiché cette fois et jamais plus, et le nœud ne pourra le montrer à personne plus tard. Gardez-le aussi secret qu'un mot de passe.
error-token-label = { $count ->
    [one] Donnez un libellé de 1 à { $count } caractère, sans caractère de contrôle.
   *[other] Donnez un libellé de 1 à { $count } caractères, sans caractère de contrôle.
}
error-token-days = Donnez un nombre entier de jours, de 1 à { $count }.
error-token-member = Ce membre ne peut pas recevoir de jeton.
error-token-revoke = Ce jeton ne peut pas être révoqué.

admin-title = Administration
admin-users = Utilisateurs
admin-users-count = { $count ->
    [0] Aucun utilisateur.
    [one] Un utilisateur.
   *[other] { $count } utilisateurs.
}
admin-user = Nom d'utilisateur
admin-role = Rôle
admin-change-role = Changer le rôle
admin-new-role = Nouveau rôle de
admin-set-role = Changer
admin-you = vous
role-viewer = Lecteur (lit)
role-analyst = Analyste (lit et écrit du renseignement)
role-liaison = Officier de liaison (demandes de coopération)
role-admin = Administrateur
admin-new-user = Ajouter un utilisateur
admin-name-hint = { $count ->
    [one] { $count } caractère au plus, sans « : » ni caractère de contrôle.
   *[other] { $count } caractères au plus, sans « : » ni caractère de contrôle.
}
admin-password = Mot de passe
admin-password-again = Mot de passe, à nouveau
admin-password-hint = { $count ->
    [one] Saisissez deux fois un mot de passe d'au moins { $count } caractère, ou laissez les deux champs vides pour qu'un mot de passe soit généré et affiché une fois.
   *[other] Saisissez deux fois un mot de passe d'au moins { $count } caractères, ou laissez les deux champs vides pour qu'un mot de passe soit généré et affiché une fois.
}
admin-new-user-explain = L'ajout d'un utilisateur, comme un changement de rôle, est consigné dans le journal de transparence du nœud (nom et rôle, jamais le mot de passe).
admin-add-user = Ajouter l'utilisateur
admin-user-added = Utilisateur ajouté
admin-password-generated = Le mot de passe généré
admin-password-typed = L'utilisateur se connecte avec le mot de passe que vous avez saisi.
admin-back = Retour à l'administration
admin-sessions = Sessions ouvertes de tous les utilisateurs
admin-sessions-count = { $count ->
    [0] Aucune session ouverte.
    [one] Une session ouverte.
   *[other] { $count } sessions ouvertes.
}
error-admin-name = Ce nom d'utilisateur est refusé.
error-admin-exists = Un utilisateur porte déjà ce nom.
error-admin-no-user = Cet utilisateur n'existe pas.
error-admin-role = Choisissez l'un des rôles proposés.
error-admin-password-mismatch = Les deux mots de passe diffèrent.
error-admin-password-short = { $count ->
    [one] Le mot de passe doit compter au moins { $count } caractère.
   *[other] Le mot de passe doit compter au moins { $count } caractères.
}
error-admin-no-session = Cette session a déjà pris fin.
